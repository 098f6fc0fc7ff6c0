"""The stabilizer bench's corpus: shaky clips with a known true camera motion, made deterministically.

Each clip is a virtual camera looking at a still texture (made by an ffmpeg source filter) through a similarity
pose (centre, angle, zoom) that is the intended motion (still, or a slow pan) times an unwanted jitter. Frames
are rendered with cv2.remap, so the motion is exact and sub-pixel; rolling shutter samples each row at its own
time, motion blur averages sub-frame renders over the exposure. Written beside each clip:
- CLIP.yuv        the frames, raw I420;
- CLIP.ref.gray   the intended view (no jitter, no blur, no rolling shutter), gray, REF_WIDTH wide: what a
                  perfect stabilizer would show, the reference the residual is measured against;
- CLIP.json       the true per-frame motion: jitter and intended pose (pixels of the clip, radians, zoom), the
                  cut frame (or null), the texture.
Usage: stabilizer-corpus.py OUT_DIR WIDTH HEIGHT FRAMES CLASS [CLASS ...]"""
import json
import math
import os
import subprocess
import sys

import cv2
import numpy as np

REF_WIDTH = 320
FPS = 30.0
# Textures are lifted to luma ≥ ~20 so that a warp's black border (luma 0) is told apart from picture.
LIFT, GAIN = 20.0, 0.86

CLASSES = {
    # name: (texture, jitter kind, intended pan in frame widths per frame)
    "translation": ("mandelbrot", "translation", 0.0),
    "rotation": ("testsrc2", "rotation", 0.0),
    "zoom": ("cellauto", "zoom", 0.0),
    "rolling-shutter": ("life", "rolling", 0.0),
    "motion-blur": ("mandelbrot", "blur", 0.0),
    "foreground": ("testsrc2", "foreground", 0.0),
    "low-texture": ("gradients", "rotation-small", 0.0),
    "pan": ("cellauto", "pan", 0.005),
    "cut": ("mandelbrot", "cut", 0.0),
}


def texture(kind, w, h):
    """A still texture w×h (BGR float32), from an ffmpeg source filter and a filter chain."""
    graphs = {
        "mandelbrot": f"mandelbrot=size={w}x{h}:maxiter=256",
        # testsrc2's bars and text half-blended with a cellular-automaton pattern: flat bars alone give
        # neither a stabilizer nor the residual measure anything to lock on.
        "testsrc2": (
            f"testsrc2=size={w}x{h}[a];cellauto=size={w // 4}x{h // 4}:rule=90:seed=5,scale={w}:{h}:flags=neighbor,"
            f"gblur=sigma=1.5,format=gbrp[b];[a]format=gbrp[c];[c][b]blend=all_mode=normal:all_opacity=0.5"
        ),
        "cellauto": f"cellauto=size={w // 3}x{h // 3}:rule=30:seed=7,scale={w}:{h}:flags=neighbor,gblur=sigma=1",
        "life": (
            f"life=size={w // 2}x{h // 2}:seed=11:ratio=0.5:mold=8:life_color=#e0c070:death_color=#203050"
            f":mold_color=#508060,select=eq(n\\,25),scale={w}:{h}:flags=neighbor,gblur=sigma=0.8"
        ),
        "gradients": (
            f"gradients=size={w}x{h}:c0=0x5a7890:c1=0x98a8b8:c2=0x6c7478:nb_colors=3:seed=3:speed=0.00001,"
            "format=yuv444p,noise=alls=60:allf=u,gblur=sigma=2"
        ),
        "smptehdbars": f"smptehdbars=size={w}x{h}",
    }
    raw = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", graphs[kind], "-frames:v", "1",
         "-pix_fmt", "bgr24", "-f", "rawvideo", "-"],
        check=True, capture_output=True,
    ).stdout
    image = np.frombuffer(raw, np.uint8, w * h * 3).reshape(h, w, 3).astype(np.float32)
    return image * GAIN + LIFT


def sines(t, terms):
    return sum(a * math.sin(2 * math.pi * f * t + p) for a, f, p in terms)


def jitter(kind, t, u):
    """The unwanted camera motion at time t (s): x, y (pixels of the clip, u per 640 px), angle (rad), zoom."""
    x = y = a = 0.0
    s = 1.0
    if kind in ("translation", "rotation", "zoom", "foreground", "pan", "cut", "rotation-small"):
        k = 0.5 if kind == "zoom" else 1.0
        x = k * u * sines(t, [(6, 1.1, 0.3), (4, 4.3, 1.1), (2, 9.7, 2.0)])
        y = k * u * sines(t, [(5, 0.9, 1.7), (3, 3.7, 0.4), (2, 8.9, 2.6)])
    if kind in ("rotation", "rotation-small"):
        k = 1.0 if kind == "rotation" else 0.6
        a = k * math.radians(sines(t, [(1.0, 0.7, 0.0), (0.6, 3.1, 0.5), (0.3, 8.3, 1.0)]))
    if kind == "zoom":
        s = 1 + sines(t, [(0.03, 0.8, 0.0), (0.01, 3.7, 1.3)])
    if kind == "rolling":
        x = u * sines(t, [(8, 6.1, 0.2), (5, 11.3, 1.4)])
        y = u * sines(t, [(4, 5.3, 2.2), (3, 9.1, 0.6)])
    if kind == "blur":
        x = u * sines(t, [(10, 5.3, 0.2), (6, 8.7, 1.1)])
        y = u * sines(t, [(9, 6.1, 0.9), (5, 9.9, 2.3)])
        a = math.radians(sines(t, [(0.5, 4.1, 0.3)]))
    return x, y, a, s


def render(tex, w, h, poses):
    """Renders the camera view: poses[r] = (cx, cy, angle, zoom) of row r (one pose per row: rolling shutter)."""
    poses = np.asarray(poses, np.float32)
    cx, cy, ang, zoom = (poses[:, i][:, None] for i in range(4))
    ux = (np.arange(w, dtype=np.float32) - w / 2)[None, :]
    uy = (np.arange(h, dtype=np.float32) - h / 2)[:, None]
    cos, sin = np.cos(ang) / zoom, np.sin(ang) / zoom
    # A clip pixel u shows the texture at centre + R(angle)·u / zoom.
    map_x = (cx + cos * ux - sin * uy).astype(np.float32)
    map_y = (cy + sin * ux + cos * uy).astype(np.float32)
    return cv2.remap(tex, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def make_clip(out_dir, name, w, h, frames):
    tex_kind, kind, pan = CLASSES[name]
    u = w / 640.0
    margin_x = int(0.2 * w) + int(pan * w * frames) + 64
    tw, th = w + 2 * margin_x, h + int(0.4 * h) + 64
    tw, th = tw + tw % 2, th + th % 2
    tex = texture(tex_kind, tw, th)
    tex_b = texture("testsrc2", tw, th) if kind == "cut" else None
    obj = None
    if kind == "foreground":
        ow, oh = int(w / 2.5) // 2 * 2, int(h / 2.5) // 2 * 2
        obj = texture("smptehdbars", ow, oh)
    cut_at = frames // 2 if kind == "cut" else None
    readout = 0.9 if kind == "rolling" else 0.0
    ref_h = round(REF_WIDTH * h / w / 2) * 2
    base = os.path.join(out_dir, f"{name}-{w}x{h}")
    truth = {"class": name, "texture": tex_kind, "width": w, "height": h, "frames": frames, "fps": FPS,
             "cutAt": cut_at, "jitter": [], "intended": []}
    # Written under temporary names and renamed at the end: two runs making the same clip never mix their files.
    part = f".part{os.getpid()}"
    with open(base + ".yuv" + part, "wb") as yuv, open(base + ".ref.gray" + part, "wb") as ref:
        for n in range(frames):
            t = n / FPS
            ix, iy = tw / 2 + pan * w * (n - frames / 2), th / 2 + pan * 0.2 * h * (n - frames / 2)
            jx, jy, ja, js = jitter(kind, t, u)
            truth["jitter"].append({"x": jx, "y": jy, "angle": ja, "scale": js})
            truth["intended"].append({"x": ix - tw / 2, "y": iy - th / 2, "angle": 0.0, "scale": 1.0})
            scene = tex_b if cut_at is not None and n >= cut_at else tex

            def pose_at(dt):
                x, y, a, s = jitter(kind, t + dt, u)
                # The camera moves by +jitter, so the picture moves by −jitter.
                return (ix + x, iy + y, a, s)

            if kind == "blur":
                # A 0.6-frame exposure, 9 sub-frame renders averaged.
                subs = [render(scene, w, h, [pose_at((k / 8 - 0.5) * 0.6 / FPS)] * h) for k in range(9)]
                frame = np.mean(subs, axis=0)
            else:
                frame = render(scene, w, h, [pose_at(readout * (r / h - 0.5) / FPS) for r in range(h)])
            ideal = render(scene, w, h, [(ix, iy, 0.0, 1.0)] * h)
            if obj is not None:
                # A foreground object crossing the still scene left to right (scene coordinates: it is not camera
                # motion), drawn in the clip and in the reference.
                ox = -obj.shape[1] + (w + obj.shape[1]) * n / (frames - 1)
                oy = h * 0.45
                for image, (x, y) in ((frame, (jx, jy)), (ideal, (0.0, 0.0))):
                    m = np.float32([[1, 0, ox - x], [0, 1, oy - y]])
                    warped = cv2.warpAffine(obj, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(-1, -1, -1))
                    mask = warped[:, :, 0] >= 0
                    image[mask] = warped[mask]
            frame8 = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
            yuv.write(cv2.cvtColor(frame8, cv2.COLOR_BGR2YUV_I420).tobytes())
            gray = cv2.cvtColor(np.clip(ideal + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
            ref.write(cv2.resize(gray, (REF_WIDTH, ref_h), interpolation=cv2.INTER_AREA).tobytes())
    with open(base + ".json" + part, "w") as f:
        json.dump(truth, f)
    for ext in (".yuv", ".ref.gray", ".json"):
        os.replace(base + ext + part, base + ext)
    return base


if __name__ == "__main__":
    out_dir, width, height, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    for clip in sys.argv[5:]:
        print(make_clip(out_dir, clip, width, height, frames))
