#!/usr/bin/env python3
"""Read the 16-bit frame-index barcodes stamped into a video by scripts/fixtures.

Usage: scripts/barcode.py FILE [--width W --height H] [--check N] [--ffmpeg PATH]

Decodes FILE with ffmpeg (no autorotation, every frame passed through as decoded
in presentation order) to 8-bit gray and prints one barcode number per line.

Bit k is the block x in [20k, 20k+20), rows 0-23; the luma at (20k+10, 12)
> 128 means 1.

With --check N it prints nothing on success and exits 0 when the barcodes read
exactly 0, 1, ..., N-1; otherwise it prints the first mismatches and exits 1.
Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys

BITS = 16
BLOCK = 20
ROW = 12


def probe_size(path, ffprobe="ffprobe"):
    res = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "v:0",
         "-show_entries", "stream=width,height", "-of", "json", path],
        capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"barcode.py: ffprobe cannot read {path}: {res.stderr.strip()}")
    out = res.stdout
    streams = json.loads(out).get("streams") or []
    if not streams:
        raise SystemExit(f"barcode.py: no video stream in {path}")
    return int(streams[0]["width"]), int(streams[0]["height"])


def read_barcodes(path, width=None, height=None, ffmpeg="ffmpeg", ffprobe="ffprobe"):
    """Yield the barcode of every decoded frame of `path`, in output order."""
    if width is None or height is None:
        width, height = probe_size(path, ffprobe)
    if width < BITS * BLOCK or height < 24:
        raise SystemExit(f"barcode.py: {width}x{height} is too small for a {BITS}-bit barcode")
    cmd = [ffmpeg, "-v", "error", "-nostdin", "-noautorotate", "-i", path,
           "-map", "0:v:0", "-fps_mode", "passthrough",
           # keep the input's time base so that irregular (VFR) timestamps do not
           # collide in the rawvideo muxer
           "-enc_time_base:v", "-1",
           "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    frame_size = width * height
    row_off = ROW * width
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    finished = False
    try:
        stream = proc.stdout
        while True:
            buf = stream.read(frame_size)
            if not buf:
                break
            if len(buf) < frame_size:
                raise SystemExit(f"barcode.py: short frame ({len(buf)} of {frame_size} bytes)")
            value = 0
            for k in range(BITS):
                if buf[row_off + BLOCK * k + BLOCK // 2] > 128:
                    value |= 1 << k
            yield value
        finished = True
    finally:
        if not finished:  # the caller stopped early: stop ffmpeg quietly
            proc.kill()
        proc.stdout.close()
        rc = proc.wait()
    if rc != 0:
        raise SystemExit(f"barcode.py: ffmpeg exited with {rc} on {path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--width", type=int)
    ap.add_argument("--height", type=int)
    ap.add_argument("--check", type=int, metavar="N",
                    help="verify the barcodes are exactly 0..N-1 instead of printing them")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    ap.add_argument("--ffprobe", default="ffprobe")
    args = ap.parse_args(argv)
    if (args.width is None) != (args.height is None):
        ap.error("--width and --height go together")

    codes = read_barcodes(args.file, args.width, args.height, args.ffmpeg, args.ffprobe)
    if args.check is None:
        try:
            for value in codes:
                sys.stdout.write(f"{value}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head
            codes.close()
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

    values = list(codes)
    expected = list(range(args.check))
    if values == expected:
        return 0
    bad = [(i, v) for i, v in enumerate(values) if i >= len(expected) or v != expected[i]]
    print(f"{args.file}: expected barcodes 0..{args.check - 1}, got {len(values)} frames",
          file=sys.stderr)
    for i, v in bad[:10]:
        print(f"  frame {i}: barcode {v}", file=sys.stderr)
    if len(values) < len(expected):
        print(f"  missing frames {len(values)}..{len(expected) - 1}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
