import { TypedEmitter, assertOption } from '@framewire/core';
import type { RawFrame } from '../media/raw-frame.js';
import type { BridgeMotionEvent, MotionBox } from '../protocol.js';
import { frameDifference, motionMaskMap } from './frame-difference.js';
import { resolveMotionOptions, type MotionDetectorOptions, type ResolvedMotionOptions } from './motion-options.js';

/** Events of a {@link MotionDetector}; each payload is the event as the bridge publishes it. */
export type MotionDetectorEvents = {
  /** Motion began: `startFrames` changed samples in a row. */
  start: BridgeMotionEvent & { type: 'motion-start' };
  /** Motion ended: no changed sample for `endQuietMs`; carries the event's peak score and area and its whole box. */
  end: BridgeMotionEvent & { type: 'motion-end' };
};

/** The union of two boxes (fractions of the frame). */
function unionBox(a: MotionBox | undefined, b: MotionBox | undefined): MotionBox | undefined {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/**
 * Decides when a source moves, from small gray frames (`GRAY8`): each sample (at most `frameRate` per second, by
 * capture time) is compared with the previous one ({@link frameDifference}); a sample whose changed area reaches
 * `minArea` counts as changed. `start` fires after `startFrames` changed samples in a row, `end` once no sample
 * changed for `endQuietMs` (measured on the samples' capture times), so one event does not flap on and off.
 * Pure computation: it runs no process and no timer; the bridge feeds it from its shared gray feed.
 */
export class MotionDetector {
  /** The source the frames come from (copied into every event). */
  readonly sourceId: string;
  /** The options in effect, defaults applied. */
  readonly options: Readonly<ResolvedMotionOptions>;
  readonly #events = new TypedEmitter<MotionDetectorEvents>();
  #map: Uint8Array | undefined;
  #mapSize = '';
  #previous: Uint8Array | undefined;
  #lastSampleMs = -Infinity;
  #changedInRow = 0;
  #active: { startedAtMs: number; lastChangeMs: number; score: number; area: number; box?: MotionBox } | undefined;
  #eventCount = 0;
  #samples = 0;
  #closed = false;

  /** Validates the options (`FW_ERR_INVALID_OPTION` naming the option). */
  constructor(sourceId: string, options: MotionDetectorOptions = {}) {
    assertOption(typeof sourceId === 'string' && sourceId !== '', 'sourceId must be a non-empty string');
    this.sourceId = sourceId;
    this.options = resolveMotionOptions(options);
  }

  /** Subscribes to `start` or `end`; returns the unsubscribe function. */
  on<E extends keyof MotionDetectorEvents>(event: E, listener: (payload: MotionDetectorEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** True between a `start` and its `end`. */
  get active(): boolean {
    return this.#active !== undefined;
  }

  /** `start` events so far. */
  get events(): number {
    return this.#eventCount;
  }

  /** Samples compared so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * Takes one gray frame (other formats are ignored; a frame sooner than 1/`frameRate` s after the last sample is
   * skipped). A change of frame size starts the comparison afresh.
   */
  push(frame: RawFrame): void {
    if (this.#closed || frame.format !== 'GRAY8' || frame.data.length !== frame.width * frame.height) return;
    // A little slack so that a feed at exactly the rate is not halved by capture-time jitter.
    if (frame.captureTimeMs - this.#lastSampleMs < 900 / this.options.frameRate) return;
    this.#lastSampleMs = frame.captureTimeMs;
    const size = `${frame.width}x${frame.height}`;
    if (size !== this.#mapSize) {
      this.#map = motionMaskMap(this.options.mask, frame.width, frame.height);
      this.#mapSize = size;
      this.#previous = undefined;
    }
    const current = new Uint8Array(frame.data);
    const previous = this.#previous;
    this.#previous = current;
    if (!previous || !this.#map) return;
    this.#samples++;
    const diff = frameDifference(previous, current, frame.width, frame.height, this.options.threshold, this.#map);
    this.#decide(frame.captureTimeMs, diff.area >= this.options.minArea, diff);
  }

  /** Stops taking frames and drops every listener (no `end` is emitted). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#events.removeAllListeners();
  }

  #decide(timeMs: number, changed: boolean, diff: ReturnType<typeof frameDifference>): void {
    this.#changedInRow = changed ? this.#changedInRow + 1 : 0;
    const active = this.#active;
    if (active) {
      if (changed) {
        active.lastChangeMs = timeMs;
        active.score = Math.max(active.score, diff.score);
        active.area = Math.max(active.area, diff.area);
        const box = unionBox(active.box, diff.box);
        if (box) active.box = box;
        return;
      }
      if (timeMs - active.lastChangeMs < this.options.endQuietMs) return;
      this.#active = undefined;
      this.#events.emit('end', {
        type: 'motion-end',
        source: this.sourceId,
        timeMs,
        score: active.score,
        area: active.area,
        ...(active.box ? { box: active.box } : {}),
        startedAtMs: active.startedAtMs,
      });
      return;
    }
    if (this.#changedInRow < this.options.startFrames) return;
    this.#active = { startedAtMs: timeMs, lastChangeMs: timeMs, score: diff.score, area: diff.area };
    if (diff.box) this.#active.box = diff.box;
    this.#eventCount++;
    this.#events.emit('start', {
      type: 'motion-start',
      source: this.sourceId,
      timeMs,
      score: diff.score,
      area: diff.area,
      ...(diff.box ? { box: diff.box } : {}),
    });
  }
}
