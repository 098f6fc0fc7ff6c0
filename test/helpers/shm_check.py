"""Test driver for examples/python/framewire_shm_reader.py; prints one JSON object per line.

Frames written by the Node tests carry their frame id in every pixel (see expectedPixels in
test/node/shm-frame-buffer.test.ts): B = (x + id) & 255, G = (y + id) & 255, R = id & 255 (BGR24), so a frame
mixing two writes, or whose header does not belong to its pixels, is detected.
"""
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
import numpy as np  # noqa: E402
from framewire_shm_reader import FrameBufferReader, ShmFormatError  # noqa: E402


def out(**kw):
    print(json.dumps(kw), flush=True)


def expected(frame_id, width, height):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x + frame_id) & 255, (y + frame_id) & 255, np.full_like(x, frame_id & 255)], axis=-1).astype(
        np.uint8
    )


def consistent(frame):
    return frame.pixels.shape == (frame.height, frame.width, 3) and np.array_equal(
        frame.pixels, expected(frame.frame_id, frame.width, frame.height)
    )


mode, path = sys.argv[1], sys.argv[2]
reader = FrameBufferReader(path)
if mode == "hammer":  # read as fast as possible until N reads of M distinct frames (60 s at most); every frame must be whole
    want_reads, want_distinct = int(sys.argv[3]), int(sys.argv[4])
    deadline = time.monotonic() + 60
    reads = torn = 0
    ids = set()
    while (reads < want_reads or len(ids) < want_distinct) and time.monotonic() < deadline:
        frame = reader.read()
        if frame is None:
            continue
        reads += 1
        ids.add(frame.frame_id)
        if not consistent(frame):
            torn += 1
    out(reads=reads, torn=torn, distinct=len(ids))
elif mode == "follow":  # report every new frame (size, id, whole) until N frames or the timeout
    count, last = int(sys.argv[3]), 0
    out(ready=True, status=reader.status())
    for _ in range(count):
        frame = reader.wait(last, timeout_s=60)
        if frame is None:
            out(timeout=True)
            break
        last = frame.frame_id
        out(id=frame.frame_id, width=frame.width, height=frame.height, ok=consistent(frame), status=reader.status())
elif mode == "slow":  # hold a zero-copy view until told on stdin: the writer goes on, and the reader can tell
    frame = reader.wait(0, timeout_s=60, copy=False)
    first_ok = consistent(frame)
    out(holding=frame.frame_id)
    sys.stdin.readline()
    valid_after = reader.still_valid(frame)
    latest = reader.read()
    out(first_id=frame.frame_id, first_ok=first_ok, valid_after=valid_after, latest_id=latest.frame_id,
        latest_ok=consistent(latest))
elif mode == "busy":  # the lock is held (odd sequence): read() must give up, not return a frame
    reader.max_retries = 50
    out(frame=reader.read() is not None, status=reader.status())
elif mode == "dump":  # write the newest frame's bytes to a file, for comparison with a reference
    frame = reader.wait(0, timeout_s=60)
    with open(sys.argv[3], "wb") as f:
        f.write(frame.pixels.tobytes())
    out(id=frame.frame_id, width=frame.width, height=frame.height, format=frame.format,
        sha256=hashlib.sha256(frame.pixels.tobytes()).hexdigest(), capture_time_ms=frame.capture_time_ms)
elif mode == "status":
    try:
        out(status=reader.status(), frame=reader.read() is not None)
    except ShmFormatError as error:
        out(error=error.code, message=str(error))
