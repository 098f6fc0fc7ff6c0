"""Quality of one stabilized output against the corpus's known motion (bench/stabilizer-corpus.py).

Reads the output as gray frames REF_WIDTH wide (raw, one after another; output i is input frame FIRST + i), the
clip's reference (its intended view) and its truth file, and prints JSON:
- itf: mean PSNR between consecutive output frames over the central half, dB (ITF, as vidgear's docs measure it);
- residualPx: RMS, over the frame's four corners and every step between consecutive frames (none across a cut),
  of the output's frame-to-frame motion minus the intended one, in pixels of the clip. Each output frame is
  registered on its reference frame (phase correlation, then ECC, affine), so the measure needs no stabilizer's
  own numbers and counts what cropping or zooming hides from ITF;
- keptShare: the share of the clip's area a user keeps after cropping every frame to one border-free centred
  rectangle (the smallest over the clip), divided by the zoom the stabilizer applied;
- failed: frames the registration could not place (left out of the residual).
Usage: stabilizer-metrics.py OUTPUT.gray CLIP_BASE [FIRST]"""
import json
import sys

import cv2
import numpy as np

REF_WIDTH = 320
BORDER_LUMA = 24  # the corpus lifts picture to luma ≥ ~33 (limited range); black is 16 (limited) or 0

out_path, base = sys.argv[1], sys.argv[2]
first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
with open(base + ".json") as f:
    truth = json.load(f)
w, h = REF_WIDTH, round(REF_WIDTH * truth["height"] / truth["width"] / 2) * 2
to_clip = truth["width"] / w
ref = np.fromfile(base + ".ref.gray", np.uint8).reshape(-1, h, w)
out = np.fromfile(out_path, np.uint8)
out = out[: out.size // (w * h) * w * h].reshape(-1, h, w)
cut_at = truth["cutAt"]


def itf(frames):
    y0, y1, x0, x1 = h // 4, 3 * h // 4, w // 4, 3 * w // 4
    values = [cv2.PSNR(a[y0:y1, x0:x1], b[y0:y1, x0:x1]) for a, b in zip(frames, frames[1:])]
    return float(np.mean(values)) if values else float("nan")


# Register each output frame on its reference frame: phase correlation of a 3×3 grid of patches (sub-pixel,
# insensitive to the blur and sharpening of different scalers), a least-squares similarity through the patch
# shifts, twice (the second pass on the reference warped by the first fit, for rotation and zoom).
PW, PH = w // 4 // 2 * 2, h // 4 // 2 * 2
window = cv2.createHanningWindow((PW, PH), cv2.CV_32F)
centres = [(w * fx, h * fy) for fy in (0.25, 0.5, 0.75) for fx in (0.25, 0.5, 0.75)]


def fit_similarity(src, dst):
    """Least-squares [a -b; b a]·src + t = dst."""
    ps, qs = np.mean(src, 0), np.mean(dst, 0)
    u, v = src - ps, dst - qs
    norm = np.sum(u * u)
    a = np.sum(u * v) / norm
    b = np.sum(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / norm
    m = np.array([[a, -b], [b, a]])
    return m, qs - m @ ps


def register(frame, reference):
    """The similarity (A, t) mapping output-frame pixels to reference pixels, or None."""
    a, t = np.eye(2), np.zeros(2)
    out32 = frame.astype(np.float32)
    for _ in range(2):
        warped = cv2.warpAffine(reference.astype(np.float32), np.hstack([a, t[:, None]]).astype(np.float32), (w, h),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        src, dst = [], []
        for x, y in centres:
            x0, y0 = int(x - PW / 2), int(y - PH / 2)
            patch = out32[y0 : y0 + PH, x0 : x0 + PW]
            if patch.std() < 2:  # border or flat: nothing to lock on
                continue
            (sx, sy), response = cv2.phaseCorrelate(warped[y0 : y0 + PH, x0 : x0 + PW], patch, window)
            if response < 0.08:
                continue
            src.append((x, y))
            dst.append((x - sx, y - sy))
        if len(src) < 3:
            return None
        m, d = fit_similarity(np.array(src), np.array(dst))
        # Compose: output → (warped reference) → reference.
        a, t = a @ m, a @ d + t
    return a, t


poses = []
failed = 0
for i, frame in enumerate(out):
    k = first + i
    if k >= len(ref):
        break
    pose = register(frame, ref[k])
    if pose is None:
        failed += 1
    poses.append(pose)

corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64)
steps = []
for i in range(1, len(poses)):
    k = first + i
    if poses[i] is None or poses[i - 1] is None or (cut_at is not None and k == cut_at):
        continue
    (a1, b1), (a0, b0) = poses[i], poses[i - 1]
    d = (corners @ a1.T + b1) - (corners @ a0.T + b0)
    steps.append(np.mean(np.sum(d * d, axis=1)))
residual = float(np.sqrt(np.mean(steps)) * to_clip) if steps else float("nan")

# Share kept: the largest centred border-free rectangle over all frames, over the zoom applied.
ys, xs = np.mgrid[0:h, 0:w]
reach = np.maximum(np.abs(xs + 0.5 - w / 2) / (w / 2), np.abs(ys + 0.5 - h / 2) / (h / 2))
rect = 1.0
for frame in out:
    # A border is dark and reaches the frame's edge: dark pixels (after a 5×5 erosion, which removes the dark
    # specks of a texture and codec ringing) connected to the edge.
    dark = cv2.erode((frame < BORDER_LUMA).astype(np.uint8), np.ones((5, 5), np.uint8))
    count, labels = cv2.connectedComponents(dark, connectivity=4)
    if count <= 1:
        continue
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    border = np.isin(labels, edge)
    if border.any():
        rect = min(rect, float(reach[border].min()))
zooms = [np.sqrt(abs(np.linalg.det(p[0]))) for p in poses if p is not None]
# A pose maps output to reference: a zoom-in by z shrinks it by 1/z.
zoom = 1 / float(np.median(zooms)) if zooms else 1.0
kept = rect * rect / (zoom * zoom)


def number(v):
    # JSON has no NaN or infinity: null for "not measurable" (e.g. identical frames, nothing registered).
    return v if np.isfinite(v) else None


print(json.dumps({"itf": number(itf(out)), "residualPx": number(residual), "keptShare": kept, "failed": failed,
                  "frames": len(out)}))
