#!/usr/bin/env python3
"""Reads the newest frame of a framewire shared-memory frame buffer, as numpy arrays.

The bridge's ShmFrameBuffer keeps the newest raw frame of a source in a file in /dev/shm (layout in
docs/guides/shared-memory-frames.md). This module maps that file and hands out numpy arrays:

    from framewire_shm_reader import FrameBufferReader
    reader = FrameBufferReader("/dev/shm/framewire")
    frame = reader.read()              # the newest whole frame (one copy into a reused array), or None
    if frame is not None:
        print(frame.frame_id, frame.pixels.shape)   # (height, width, 3) for BGR24

    frame = reader.read(copy=False)    # zero copy: a view on the mapping...
    result = model(frame.pixels)       # ...that the writer may overwrite while you use it, so
    if reader.still_valid(frame): ...  # check afterwards that it did not

Run it as a script to print the frames as they arrive: python3 framewire_shm_reader.py /dev/shm/framewire
Needs only numpy.
"""
import mmap
import os
import struct
import sys
import time
from typing import NamedTuple, Optional

import numpy as np

MAGIC = b"FWFB"
VERSION = 1
HEADER_BYTES = 64
STATUS_NAMES = {0: "empty", 1: "live", 2: "closed", 3: "superseded"}
CHANNELS = {"RGB24": 3, "BGR24": 3, "RGBA": 4, "BGRA": 4, "GRAY8": 1}
# status, width, height, format, payload bytes, writer pid, frame id, capture time (ms), capacity
_FIELDS = struct.Struct("<III8sIIQdQ")


class ShmFormatError(Exception):
    """The file is not a framewire frame buffer of a known version (bad magic, version or size)."""

    code = "FW_ERR_SHM_INVALID"


class Frame(NamedTuple):
    frame_id: int
    width: int
    height: int
    format: str
    capture_time_ms: float
    pixels: np.ndarray
    seq: int


class FrameBufferReader:
    """Maps the buffer at `path`; may be created before the writer (read() returns None until a frame exists)."""

    def __init__(self, path: str, max_retries: int = 1000):
        self.path = path
        self.max_retries = max_retries
        self._mm = None
        self._bytes = None
        self._ino = None
        self._out = None

    def _drop(self):
        # Views handed out keep the old mapping alive; it is never truncated, so they stay safe to read.
        self._mm = self._bytes = self._ino = None

    def _open(self) -> bool:
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            self._drop()
            return False
        if self._mm is not None and ino == self._ino:
            return True
        self._drop()
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            st = os.fstat(fd)
            if st.st_size < HEADER_BYTES:
                raise ShmFormatError(f"{self.path}: {st.st_size} bytes, shorter than the {HEADER_BYTES}-byte header")
            mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        magic, version = bytes(mm[0:4]), struct.unpack_from("<H", mm, 4)[0]
        if magic != MAGIC or version != VERSION:
            raise ShmFormatError(f"{self.path}: magic {magic!r}, version {version}: not a framewire frame buffer v{VERSION}")
        self._mm, self._ino = mm, st.st_ino
        self._bytes = np.frombuffer(mm, dtype=np.uint8)  # zero-copy view of the whole mapping
        return True

    def _seq(self) -> int:
        return struct.unpack_from("<I", self._mm, 8)[0]

    def status(self) -> str:
        """'missing' before the writer created the file, else the header's 'empty', 'live', 'closed' or 'superseded'."""
        if not self._open():
            return "missing"
        return STATUS_NAMES.get(struct.unpack_from("<I", self._mm, 12)[0], "unknown")

    def read(self, copy: bool = True) -> Optional[Frame]:
        """The newest whole frame, or None (no writer or no frame yet, or the writer kept the lock busy).

        copy=True copies the pixels into an array reused by the next read() (copy again to keep one);
        copy=False returns a view on the mapping: call still_valid(frame) after using it.
        """
        for _ in range(self.max_retries):
            if not self._open():
                return None
            seq = self._seq()
            status, width, height, fmt, size, _pid, frame_id, capture_ms, capacity = _FIELDS.unpack_from(self._mm, 12)
            if status == 3:  # superseded: a new file of another size took the name
                self._drop()
                continue
            if seq & 1:  # the writer is mid-frame
                continue
            if status == 0 or frame_id == 0:
                return None
            if size > capacity or HEADER_BYTES + size > len(self._mm):
                continue  # a header torn by a concurrent write; the sequence check below would also catch it
            view = self._bytes[HEADER_BYTES : HEADER_BYTES + size]
            if copy:
                if self._out is None or self._out.size != size:
                    self._out = np.empty(size, dtype=np.uint8)
                np.copyto(self._out, view)
                view = self._out
            if self._seq() != seq:
                continue
            name = fmt.rstrip(b"\0").decode("ascii")
            return Frame(frame_id, width, height, name, capture_ms, _shape(view, name, width, height), seq)
        return None

    def still_valid(self, frame: Frame) -> bool:
        """True while the writer has not started another frame since `frame` was read (for copy=False views)."""
        return self._mm is not None and self._seq() == frame.seq and self.status() != "superseded"

    def wait(self, after_id: int = 0, timeout_s: float = 10.0, copy: bool = True) -> Optional[Frame]:
        """Polls until a frame newer than `after_id` is there; None after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            frame = self.read(copy)
            if frame is not None and frame.frame_id != after_id:
                return frame
            time.sleep(0.001)
        return None


def _shape(flat: np.ndarray, fmt: str, width: int, height: int) -> np.ndarray:
    channels = CHANNELS.get(fmt)
    if channels == 1:
        return flat.reshape(height, width)
    if channels:
        return flat.reshape(height, width, channels)
    if fmt in ("I420", "NV12") and width % 2 == 0 and height % 2 == 0:
        return flat.reshape(height * 3 // 2, width)  # the layout cv2.cvtColor(..., COLOR_YUV2BGR_I420) takes
    return flat


if __name__ == "__main__":
    reader = FrameBufferReader(sys.argv[1] if len(sys.argv) > 1 else "/dev/shm/framewire")
    last = 0
    while True:
        frame = reader.wait(last, timeout_s=3600)
        if frame is None:
            continue
        last = frame.frame_id
        latency = time.time() * 1000 - frame.capture_time_ms
        print(f"frame {frame.frame_id} {frame.width}x{frame.height} {frame.format} {latency:.1f} ms after capture")
