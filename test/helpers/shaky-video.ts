/** Synthetic shaky video for stabilization tests and benches: a textured scene, a known jitter and a slow pan. */

/** A deterministic pseudo-random generator (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A `width`×`height` canvas of random rectangles and discs: plenty of corners to track. */
export function texturedScene(width: number, height: number, seed = 7): OffscreenCanvas {
  const random = seededRandom(seed);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#777';
  context.fillRect(0, 0, width, height);
  for (let i = 0; i < (width * height) / 400; i++) {
    context.fillStyle = `hsl(${Math.floor(random() * 360)} ${40 + random() * 50}% ${15 + random() * 70}%)`;
    const x = random() * width;
    const y = random() * height;
    const size = 4 + random() * 28;
    if (random() < 0.5) context.fillRect(x, y, size, size * (0.5 + random()));
    else {
      context.beginPath();
      context.arc(x, y, size / 2, 0, Math.PI * 2);
      context.fill();
    }
  }
  return canvas;
}

/** Where the camera looked at frame `i`: the intended pan plus the jitter, in pixels. */
export interface ShakyPosition {
  panX: number;
  panY: number;
  jitterX: number;
  jitterY: number;
}

/** Settings of {@link shakyPositions}. */
export interface ShakeOptions {
  frames: number;
  /** Jitter amplitude: uniform in ±this, pixels. */
  jitterPx: number;
  /** Intended pan, pixels per frame (horizontal). */
  panPxPerFrame: number;
  seed?: number;
}

/** The camera position of every frame. */
export function shakyPositions(options: ShakeOptions): ShakyPosition[] {
  const random = seededRandom(options.seed ?? 11);
  return Array.from({ length: options.frames }, (_, i) => ({
    panX: i * options.panPxPerFrame,
    panY: 0,
    jitterX: (random() * 2 - 1) * options.jitterPx,
    jitterY: (random() * 2 - 1) * options.jitterPx,
  }));
}

/**
 * Frame `i` of a shaky video of `scene`: a `width`×`height` window whose content is moved by the pan plus the
 * jitter (the picture moves left and up as the position grows), timestamp `i` × 33,333 µs.
 */
export function shakyFrame(
  scene: OffscreenCanvas,
  position: ShakyPosition,
  index: number,
  width: number,
  height: number,
): VideoFrame {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  const x = (scene.width - width) / 2 + position.panX + position.jitterX;
  const y = (scene.height - height) / 2 + position.panY + position.jitterY;
  context.drawImage(scene, -x, -y);
  return new VideoFrame(canvas, { timestamp: index * 33_333, duration: 33_333 });
}

/** The luma of `frame` as a `width`×`height` array (drawn on a canvas; the frame is not closed). */
export function lumaOf(frame: VideoFrame): { data: Float32Array; width: number; height: number } {
  const width = frame.displayWidth;
  const height = frame.displayHeight;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(frame, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++)
    data[i] = 0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!;
  return { data, width, height };
}

type Luma = ReturnType<typeof lumaOf>;

/**
 * The shift (dx, dy) that best maps the central half of `a` onto `b` (b(x + dx, y + dy) ≈ a(x, y)), searched
 * over ±`range` pixels by sum of absolute differences, refined to sub-pixel by a parabola.
 */
export function shiftBetween(a: Luma, b: Luma, range: number): { dx: number; dy: number } {
  const x0 = Math.floor(a.width / 4);
  const y0 = Math.floor(a.height / 4);
  const x1 = x0 + Math.floor(a.width / 2);
  const y1 = y0 + Math.floor(a.height / 2);
  const cost = (dx: number, dy: number): number => {
    let sum = 0;
    for (let y = y0; y < y1; y += 2) {
      for (let x = x0; x < x1; x += 2) sum += Math.abs(a.data[y * a.width + x]! - b.data[(y + dy) * b.width + x + dx]!);
    }
    return sum;
  };
  let best = { dx: 0, dy: 0, c: Infinity };
  for (let dy = -range; dy <= range; dy++) {
    for (let dx = -range; dx <= range; dx++) {
      const c = cost(dx, dy);
      if (c < best.c) best = { dx, dy, c };
    }
  }
  const refine = (minus: number, mid: number, plus: number): number => {
    const denominator = minus - 2 * mid + plus;
    return denominator > 0 ? (0.5 * (minus - plus)) / denominator : 0;
  };
  const fx = refine(cost(best.dx - 1, best.dy), best.c, cost(best.dx + 1, best.dy));
  const fy = refine(cost(best.dx, best.dy - 1), best.c, cost(best.dx, best.dy + 1));
  return { dx: best.dx + fx, dy: best.dy + fy };
}

/** Mean PSNR (dB) between consecutive frames over their central half: vidgear's inter-frame transformation fidelity. */
export function interFrameFidelity(frames: Luma[]): number {
  let total = 0;
  for (let k = 1; k < frames.length; k++) {
    const a = frames[k - 1]!;
    const b = frames[k]!;
    let squared = 0;
    let n = 0;
    for (let y = Math.floor(a.height / 4); y < Math.floor((3 * a.height) / 4); y++) {
      for (let x = Math.floor(a.width / 4); x < Math.floor((3 * a.width) / 4); x++) {
        const d = a.data[y * a.width + x]! - b.data[y * b.width + x]!;
        squared += d * d;
        n++;
      }
    }
    total += 10 * Math.log10((255 * 255) / Math.max(1e-6, squared / n));
  }
  return total / Math.max(1, frames.length - 1);
}

/** Residual of `values` around their least-squares straight line, root mean square. */
export function rmsAroundLine(values: number[]): { rms: number; slope: number } {
  const n = values.length;
  const mt = (n - 1) / 2;
  const mv = values.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    num += (t - mt) * (values[t]! - mv);
    den += (t - mt) ** 2;
  }
  const slope = den > 0 ? num / den : 0;
  const rms = Math.sqrt(values.reduce((s, v, t) => s + (v - (mv + slope * (t - mt))) ** 2, 0) / n);
  return { rms, slope };
}
