"""vidgear's Stabilizer algorithm (ASW, vidgear/gears/stabilizer/asw.py), on native OpenCV: the baseline of
bench/stabilizer.bench.mjs. Reads raw I420 frames, stabilizes them the way vidgear does (CLAHE, Shi-Tomasi
corners, pyramidal Lucas-Kanade, estimateAffinePartial2D, box-smoothed trajectory, warpAffine), and prints
the throughput as JSON. With OUT_GRAY, also writes the output frames' luma (BT.601 limited range, as an I420 Y
plane) REF_WIDTH pixels wide to that file, after the timing, for bench/stabilizer-metrics.py.
Usage: vidgear-asw.py FILE WIDTH HEIGHT FRAMES [SMOOTHING_RADIUS [OUT_GRAY]]"""
import json
import sys
import time
from collections import deque

import cv2
import numpy as np

path, width, height, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
radius = int(sys.argv[5]) if len(sys.argv) > 5 else 25
out_gray = sys.argv[6] if len(sys.argv) > 6 else None
REF_WIDTH = 320
frame_size = width * height * 3 // 2
with open(path, "rb") as f:
    raw = f.read()
bgr = [
    cv2.cvtColor(
        np.frombuffer(raw, np.uint8, frame_size, i * frame_size).reshape(height * 3 // 2, width), cv2.COLOR_YUV2BGR_I420
    )
    for i in range(frames)
]

clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
frame_queue = deque(maxlen=radius)
transforms = deque(maxlen=2 * radius + 1)
prev_gray = None
prev_kps = None
emitted = 0
outputs = []
start = time.perf_counter()
for frame in bgr:
    gray = clahe.apply(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    if prev_gray is None:
        prev_gray = gray
        prev_kps = cv2.goodFeaturesToTrack(gray, maxCorners=200, qualityLevel=0.05, minDistance=30, blockSize=3)
        frame_queue.append(frame)
        continue
    frame_queue.append(frame)
    dx = dy = da = 0.0
    try:
        cur_kps, status, _ = cv2.calcOpticalFlowPyrLK(prev_gray, gray, prev_kps, None)
        ok = status.ravel() == 1
        m, _ = cv2.estimateAffinePartial2D(prev_kps[ok], cur_kps[ok])
        if m is not None:
            dx, dy, da = m[0, 2], m[1, 2], np.arctan2(m[1, 0], m[0, 0])
    except cv2.error:
        pass
    transforms.append([dx, dy, da])
    prev_gray = gray
    prev_kps = cv2.goodFeaturesToTrack(gray, maxCorners=200, qualityLevel=0.05, minDistance=30, blockSize=3)
    if len(frame_queue) < radius:
        continue
    # Trajectory smoothing over the bounded window, as vidgear does it.
    t = np.array(transforms)
    path_ = np.cumsum(t, axis=0)
    smoothed = np.copy(path_)
    for k in range(3):
        padded = np.pad(path_[:, k], (radius, radius), "median")
        smoothed[:, k] = np.convolve(padded, np.ones(radius) / radius, mode="same")[radius:-radius]
    smooth_t = t + (smoothed - path_)
    row = smooth_t[max(0, len(t) - radius + 1)]
    cos, sin = np.cos(row[2]), np.sin(row[2])
    matrix = np.array([[cos, -sin, row[0]], [sin, cos, row[1]]])
    outputs.append(cv2.warpAffine(frame_queue.popleft(), matrix, (width, height), borderMode=cv2.BORDER_CONSTANT))
    emitted += 1
seconds = time.perf_counter() - start


def itf(images):
    # Mean PSNR between consecutive frames over the central half, on gray (after the timing).
    total = 0.0
    for a, b in zip(images, images[1:]):
        ga = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
        gb = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
        total += cv2.PSNR(ga, gb)
    return total / max(1, len(images) - 1)


if out_gray:
    ref_height = round(REF_WIDTH * height / width / 2) * 2
    with open(out_gray, "wb") as f:
        for image in outputs:
            luma = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)[:height]
            f.write(cv2.resize(luma, (REF_WIDTH, ref_height), interpolation=cv2.INTER_AREA).tobytes())

print(json.dumps({"fps": frames / seconds, "emitted": emitted, "itf": itf(outputs), "itfInput": itf(bgr)}))
