import type { IncomingMessage, ServerResponse } from 'node:http';
import { TypedEmitter, assertOption, createLogger } from '@framewire/core';
import type { MetricFamily } from '@framewire/core/node';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import type { BridgeMotionEvent, MotionHealth } from '../protocol.js';
import { MotionDetector } from './motion-detector.js';
import { MotionEventStream } from './motion-event-stream.js';
import { MOTION_DEFAULTS, resolveMotionOptions, type MotionOptions } from './motion-options.js';
import { MotionWebhook } from './motion-webhook.js';

/** Something that delivers a source's small gray frames while subscribed (the bridge's shared `GRAY8` feed). */
export interface GrayFrameFeed {
  /** Receives every frame until the returned function is called. */
  subscribe(listener: (frame: SourceFrame) => void): () => void;
}

/** Events of a {@link MotionMonitor}: every source's motion events, as {@link MotionDetector} emits them. */
export type MotionMonitorEvents = {
  /** Motion began on a source. */
  start: BridgeMotionEvent & { type: 'motion-start' };
  /** Motion ended on a source. */
  end: BridgeMotionEvent & { type: 'motion-end' };
};

const log = createLogger('motion');

/**
 * Motion detection for the bridge's sources: one {@link MotionDetector} per watched source, fed from that source's
 * small gray feed (subscribed only while detection runs, so the decode and scale to gray happen only then), and
 * every event sent to `/events` (Server-Sent Events), the webhook and the monitor's own `start`/`end` listeners (the
 * MQTT publisher, a recorder's trigger). Reports itself in `/health` and `/metrics`.
 */
export class MotionMonitor {
  readonly #options: MotionOptions;
  readonly #feedOf: (sourceId: string) => GrayFrameFeed;
  readonly #events = new TypedEmitter<MotionMonitorEvents>();
  readonly #detectors = new Map<string, { detector: MotionDetector; unsubscribe: () => void }>();
  readonly #stream: MotionEventStream;
  readonly #webhook: MotionWebhook | undefined;
  /** The `motion-start` of each source in an event now (sent first to a new `/events` client). */
  readonly #active = new Map<string, BridgeMotionEvent>();
  #closed = false;

  /**
   * Validates `options` (`FW_ERR_INVALID_OPTION` naming the option); `feedOf` gives a source's gray feed at the
   * options' size and rate. Sources start being watched with {@link MotionMonitor.addSource}.
   */
  constructor(options: MotionOptions, feedOf: (sourceId: string) => GrayFrameFeed, corsOrigin = '*') {
    resolveMotionOptions(options);
    this.#options = options;
    this.#feedOf = feedOf;
    this.#stream = new MotionEventStream(corsOrigin);
    if (options.webhookUrl !== undefined)
      this.#webhook = new MotionWebhook({
        url: options.webhookUrl,
        retries: options.webhookRetries ?? MOTION_DEFAULTS.webhookRetries,
        timeoutMs: options.webhookTimeoutMs ?? MOTION_DEFAULTS.webhookTimeoutMs,
      });
  }

  /** Subscribes to every source's `start` or `end`; returns the unsubscribe function. */
  on<E extends keyof MotionMonitorEvents>(event: E, listener: (payload: MotionMonitorEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The detector of source `id`, when it is watched. */
  detector(id: string): MotionDetector | undefined {
    return this.#detectors.get(id)?.detector;
  }

  /** True when `options.sources` lets this source be watched (every source without it). */
  watches(id: string): boolean {
    return this.#options.sources === undefined || this.#options.sources.includes(id);
  }

  /** Throws `FW_ERR_INVALID_OPTION` when `options.sources` names a source that is not in `ids`. */
  checkSources(ids: readonly string[]): void {
    for (const id of this.#options.sources ?? [])
      assertOption(ids.includes(id), `motion.sources: no source with id ${id}`);
  }

  /** Starts watching source `id` (no-op when it is not in `options.sources`, already watched, or after `close()`). */
  addSource(id: string): void {
    if (this.#closed || this.#detectors.has(id) || !this.watches(id)) return;
    const detector = new MotionDetector(id, this.#options);
    detector.on('start', (event) => this.#publish('start', event));
    detector.on('end', (event) => this.#publish('end', event));
    const unsubscribe = this.#feedOf(id).subscribe((frame) => {
      if (isRawFrame(frame)) detector.push(frame);
    });
    this.#detectors.set(id, { detector, unsubscribe });
    log.info(`watching ${id} for motion`);
  }

  /** Stops watching source `id`. */
  removeSource(id: string): void {
    const entry = this.#detectors.get(id);
    if (!entry) return;
    entry.unsubscribe();
    entry.detector.close();
    this.#detectors.delete(id);
  }

  /** Serves `GET /events` (already authorized) as Server-Sent Events; the active events are sent first. */
  handleEvents(request: IncomingMessage, response: ServerResponse): void {
    this.#stream.handle(request, response, [...this.#active.values()]);
  }

  /** The `/health` part. */
  get health(): MotionHealth {
    const webhook = this.#webhook;
    const error = webhook?.lastError;
    return {
      sources: [...this.#detectors.values()].map(({ detector }) => ({
        source: detector.sourceId,
        active: detector.active,
        events: detector.events,
      })),
      ...(webhook
        ? {
            webhook: {
              delivered: webhook.delivered,
              failed: webhook.failed,
              ...(error ? { error: { code: error.code, message: error.message } } : {}),
            },
          }
        : {}),
    };
  }

  /** The `/metrics` families: `framewire_motion_active`, `framewire_motion_events_total`, webhook counters. */
  get metricFamilies(): MetricFamily[] {
    const detectors = [...this.#detectors.values()].map(({ detector }) => detector);
    const families: MetricFamily[] = [
      {
        name: 'framewire_motion_active',
        type: 'gauge',
        help: '1 while motion detection sees motion on the source (between motion-start and motion-end).',
        samples: detectors.map((d) => ({ labels: { source: d.sourceId }, value: d.active ? 1 : 0 })),
      },
      {
        name: 'framewire_motion_events_total',
        type: 'counter',
        help: 'Motion events (motion-start) on the source.',
        samples: detectors.map((d) => ({ labels: { source: d.sourceId }, value: d.events })),
      },
      {
        name: 'framewire_motion_samples_total',
        type: 'counter',
        help: 'Small gray frames motion detection compared on the source.',
        samples: detectors.map((d) => ({ labels: { source: d.sourceId }, value: d.samples })),
      },
    ];
    if (this.#webhook)
      families.push(
        {
          name: 'framewire_motion_webhook_delivered_total',
          type: 'counter',
          help: 'Motion events delivered to the webhook.',
          samples: [{ value: this.#webhook.delivered }],
        },
        {
          name: 'framewire_motion_webhook_failures_total',
          type: 'counter',
          help: 'Motion events the webhook did not take after every retry (FW_ERR_WEBHOOK_FAILED).',
          samples: [{ value: this.#webhook.failed }],
        },
      );
    return families;
  }

  /** True while the webhook's last delivery failed (the bridge reports itself degraded). */
  get failing(): boolean {
    return this.#webhook?.lastError !== undefined;
  }

  /** Stops every detector, the event stream and the webhook. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#detectors.keys()]) this.removeSource(id);
    this.#stream.close();
    this.#webhook?.close();
    this.#events.removeAllListeners();
  }

  #publish<E extends keyof MotionMonitorEvents>(name: E, event: MotionMonitorEvents[E]): void {
    if (event.type === 'motion-start') this.#active.set(event.source, event);
    else this.#active.delete(event.source);
    log.info(`${event.type} on ${event.source}`, { area: Number(event.area.toFixed(3)) });
    this.#stream.broadcast(event);
    this.#webhook?.send(event);
    this.#events.emit(name, event);
  }
}
