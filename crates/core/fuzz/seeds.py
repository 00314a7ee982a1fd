#!/usr/bin/env python3
"""Seeds the fuzz corpora from the test fixtures, so that the fuzzer starts from real
structure (boxes, playlists, TS packets, slice headers) instead of rediscovering it.

usage: seeds.py FIXTURES_DIR CORPUS_DIR    (writes CORPUS_DIR/<target>/*; needs ffmpeg)
"""
import pathlib
import subprocess
import sys

fixtures, corpus = map(pathlib.Path, sys.argv[1:3])


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# reader: small files whole, the head of bigger ones.
for f in sorted([*fixtures.glob("*.mp4"), *fixtures.glob("*.mov")]):
    put("reader", f.name, f.read_bytes()[:131072])

# playlist: the fixtures' media playlists and a master playlist naming them.
for f in sorted(fixtures.glob("hls_*/index.m3u8")):
    put("playlist", f.parent.name + ".m3u8", f.read_bytes())
put(
    "playlist",
    "master.m3u8",
    b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\n"
    b"low/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\nhigh/index.m3u8\n",
)

# segment: a 2-byte init length, the init section, the segment (TS: no init).
for f in sorted(fixtures.glob("hls_ts/*.ts"))[:2]:
    put("segment", f.name, b"\0\0" + f.read_bytes())
init = fixtures / "hls_fmp4" / "init.mp4"
if init.exists():
    head = init.read_bytes()
    for f in sorted(fixtures.glob("hls_fmp4/*.m4s"))[:2]:
        put("segment", f.name, len(head).to_bytes(2, "big") + head + f.read_bytes())

# h264_slices: an avcC (1-byte length first) built from the stream's SPS and PPS, then each
# picture's slices (4-byte NAL lengths) behind a 2-byte length.
for f in ["h264_long_gop.mp4", "h264_open_gop.mp4", "h264_bframes_editlist.mp4"]:
    src = fixtures / f
    if not src.exists():
        continue
    annexb = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-map", "0:v:0", "-c", "copy",
         "-bsf:v", "h264_mp4toannexb", "-frames:v", "40", "-f", "h264", "-"],
        check=True, capture_output=True).stdout
    nals = [n.lstrip(b"\0") for n in annexb.split(b"\0\0\1") if n.strip(b"\0")]
    sps = next((n for n in nals if n[0] & 31 == 7), None)
    pps = next((n for n in nals if n[0] & 31 == 8), None)
    if sps is None or pps is None:
        continue
    avcc = (bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + len(sps).to_bytes(2, "big") + sps
            + b"\1" + len(pps).to_bytes(2, "big") + pps)
    out = bytearray([len(avcc)]) + avcc
    for n in nals:
        if n[0] & 31 in (1, 5):
            sample = len(n).to_bytes(4, "big") + n
            out += len(sample[:65535]).to_bytes(2, "big") + sample[:65535]
    put("h264_slices", f, bytes(out))
