import { getCaptureTime } from '../core/capture-time.js';

/** Glass-to-glass latency of the frames a live source delivered: capture (on the bridge) → `read()`. */
export interface BridgeLatency {
  /** Median over the last `samples` frames, in ms. */
  p50Ms: number;
  /** 95th percentile over the last `samples` frames, in ms. */
  p95Ms: number;
  /** Frames measured (the newest 300 at most). */
  samples: number;
}

/** How many of the newest frames a {@link LatencyWindow} keeps. */
const WINDOW = 300;

/** The glass-to-glass latencies of the newest frames read from a source whose frames carry their capture time. */
export class LatencyWindow {
  readonly #latencies: number[] = [];

  /** Counts `frame` (a frame just read; `null` at the end) when it carries its capture time. */
  measure(frame: VideoFrame | null): void {
    const captured = frame ? getCaptureTime(frame) : undefined;
    if (captured === undefined) return;
    this.#latencies.push(Date.now() - captured);
    if (this.#latencies.length > WINDOW) this.#latencies.shift();
  }

  /** p50, p95 and the number of samples; `undefined` before the first. */
  get summary(): BridgeLatency | undefined {
    if (this.#latencies.length === 0) return undefined;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50Ms: at(0.5), p95Ms: at(0.95), samples: sorted.length };
  }
}
