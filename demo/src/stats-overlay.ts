/** What a stats overlay can show; fields left out are not shown. */
export interface OverlayStats {
  /** Frames per second. */
  fps?: number;
  /** Bits per second. */
  bitrateBps?: number;
  /** Frames dropped so far. */
  droppedFrames?: number;
  /** Glass-to-glass latency (capture to display), in ms, where the frames carry their capture time. */
  latencyMs?: number | undefined;
}

/** Writes `stats` into an overlay element as short lines, and as `data-*` attributes for scripts and tests. */
export function showStats(overlay: HTMLElement, stats: OverlayStats): void {
  const lines: string[] = [];
  if (stats.fps !== undefined) lines.push(`${stats.fps.toFixed(1)} fps`);
  if (stats.bitrateBps !== undefined) lines.push(`${(stats.bitrateBps / 1e6).toFixed(2)} Mbit/s`);
  if (stats.droppedFrames !== undefined) lines.push(`${stats.droppedFrames} dropped`);
  if (stats.latencyMs !== undefined) lines.push(`${stats.latencyMs.toFixed(0)} ms glass-to-glass`);
  overlay.textContent = lines.join('\n');
  for (const [key, value] of Object.entries(stats)) {
    if (value !== undefined) overlay.dataset[key] = String(value);
  }
}

/** Updates `overlay` from a playing `<video>` every second: fps, dropped frames and `bitrateBps()` when known. */
export function watchVideoStats(
  video: HTMLVideoElement,
  overlay: HTMLElement,
  bitrateBps: () => number | undefined,
): () => void {
  let last = video.getVideoPlaybackQuality();
  let lastMs = performance.now();
  const timer = setInterval(() => {
    const now = video.getVideoPlaybackQuality();
    const nowMs = performance.now();
    const fps = ((now.totalVideoFrames - last.totalVideoFrames) * 1000) / (nowMs - lastMs);
    const bitrate = bitrateBps();
    showStats(overlay, {
      fps,
      droppedFrames: now.droppedVideoFrames,
      ...(bitrate === undefined ? {} : { bitrateBps: bitrate }),
    });
    [last, lastMs] = [now, nowMs];
  }, 1000);
  return () => clearInterval(timer);
}
