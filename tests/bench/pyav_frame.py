"""PyAV opening a URL, the usual Python way to get one frame: av.open(url), seek to the
keyframe at or before the target, decode up to it. Prints JSON: ms from av.open() to the
frame, and the frame's barcode (16 bits: luma at (20k+10, 12) > 128).

Usage: pyav_frame.py URL PTS   (PTS: the frame's presentation timestamp in stream time_base)
"""

import json
import sys
import time

import av


def barcode(frame):
    plane = frame.planes[0]
    data = bytes(plane)
    row = 12 * plane.line_size
    return sum(1 << k for k in range(16) if data[row + 20 * k + 10] > 128)


def main():
    url, pts = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    container = av.open(url)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    if pts > 0:
        container.seek(pts, stream=stream, backward=True, any_frame=False)
    found = None
    for frame in container.decode(stream):
        if frame.pts is not None and frame.pts >= pts:
            found = frame
            break
    ms = (time.perf_counter() - t0) * 1000
    code = barcode(found) if found is not None else None
    container.close()
    print(json.dumps({"ms": ms, "barcode": code, "pts": found.pts if found is not None else None}))


if __name__ == "__main__":
    main()
