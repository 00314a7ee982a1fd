#!/usr/bin/env bash
# Makes the benchmark's media: a 60 s 1080p30 H.264 file (8 Mbit/s, GOP 60, 2 B-frames,
# AAC 128 kbit/s) with each frame's index stamped as the 16-bit barcode, moov last
# (ffmpeg's default) and moov first (+faststart); and HLS of its first 10 s of video cut by
# time into 0.5 s segments (split/index.m3u8: each 2 s GOP runs through 4 segments).
# Usage: make-media.sh OUTDIR
set -euo pipefail
out=${1:?usage: make-media.sh OUTDIR}
mkdir -p "$out"
last=$out/bench_moov_last.mp4
first=$out/bench_moov_first.mp4
make_split() {
  [[ -s $out/split/index.m3u8 ]] && return
  rm -rf "$out/split.tmp" && mkdir -p "$out/split.tmp"
  ffmpeg -hide_banner -loglevel error -y -i "$first" -t 10 -an -c copy -f hls -hls_time 0.5 \
    -hls_flags split_by_time -hls_playlist_type vod \
    -hls_segment_filename "$out/split.tmp/seg_%d.ts" "$out/split.tmp/index.m3u8"
  rm -rf "$out/split" && mv "$out/split.tmp" "$out/split"
}
if [[ -s $last && -s $first ]]; then
  make_split
  exit 0
fi
barcode="geq=lum='if(mod(floor(N/pow(2,floor(X/20))),2),235,16)':cb=128:cr=128"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=60" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
  -filter_complex "[0:v]noise=alls=6:allf=t,format=yuv420p,split[main][strip];[strip]crop=320:24:0:0,${barcode}[bar];[main][bar]overlay=0:0,format=yuv420p[v]" \
  -map "[v]" -map 1:a \
  -c:v libx264 -preset veryfast -b:v 8M -maxrate 8M -bufsize 16M \
  -g 60 -keyint_min 60 -sc_threshold 0 -bf 2 \
  -c:a aac -b:a 128k \
  "$last.tmp.mp4"
mv "$last.tmp.mp4" "$last"
ffmpeg -hide_banner -loglevel error -y -i "$last" -map 0 -c copy -movflags +faststart "$first.tmp.mp4"
mv "$first.tmp.mp4" "$first"
make_split
