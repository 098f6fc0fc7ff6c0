import { keyframeIntervalOf } from '../core/keyframe-interval.js';
import { FramewireError, type TypedEmitter } from '@framewire/core';
import { getCaptureTime } from '../core/capture-time.js';
import type { FrameSource } from '../core/frame-source.js';
import { encodePeerMessage } from './peer-message.js';
import type { PeerLink } from './peer-link.js';
import type { PeerMesh } from './peer-mesh.js';
import type { Publication, PublishOptions } from './publication.js';
import type { EncodedFrameMeta } from './remote-frame-source.js';
import type { RoomEvents } from './room-events.js';
import { assertSecureContext } from '../core/secure-context.js';

/**
 * The room's `data` publications: a FrameSource encoded with WebCodecs and sent frame by frame over the reliable
 * data channel (`fw.frame`, then `fw.frame-end`), each frame with its capture time on the signaling server's clock.
 * A key frame starts the stream, follows every `keyframeIntervalFrames`, and answers a receiver's request
 * (`fw.keyframe`) and every newly opened link.
 */
export class DataPublisher {
  readonly #mesh: PeerMesh;
  readonly #nextId: () => number;
  readonly #clockOffsetMs: () => number;
  readonly #events: TypedEmitter<RoomEvents>;
  readonly #publications = new Map<number, { to?: string[]; keyFrame: () => void }>();

  /**
   * @param mesh the room's links; @param nextId the room's id counter (publication ids); @param clockOffsetMs the
   * signaling server's clock minus this one's, in ms; @param events the room's events (non-fatal errors).
   */
  constructor(mesh: PeerMesh, nextId: () => number, clockOffsetMs: () => number, events: TypedEmitter<RoomEvents>) {
    this.#mesh = mesh;
    this.#nextId = nextId;
    this.#clockOffsetMs = clockOffsetMs;
    this.#events = events;
  }

  /** Publishes `source` over the data channel. Throws `FW_ERR_NOT_SUPPORTED` without `VideoEncoder`. */
  publish(source: FrameSource, options: PublishOptions): Publication {
    assertSecureContext('Room.publish', 'publish');
    if (typeof VideoEncoder !== 'function') {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'VideoEncoder is not available here', {
        fatal: true,
        stage: 'publish',
      });
    }
    const id = this.#nextId();
    const codec = options.codec ?? 'vp8';
    const keyInterval = keyframeIntervalOf(options) ?? 60;
    let needKey = true;
    let framesSent = 0;
    let stopped = false;
    let seq = 0;
    const isStopped = (): boolean => stopped;
    let size = { width: 0, height: 0 };
    const captures = new Map<number, number | undefined>();
    const targets = (): PeerLink[] => this.#mesh.openLinks(options.to);
    const encoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        const capture = captures.get(chunk.timestamp);
        captures.delete(chunk.timestamp);
        const meta: EncodedFrameMeta = {
          pub: id,
          seq: seq++,
          codec,
          key: chunk.type === 'key',
          timestampUs: chunk.timestamp,
          width: size.width,
          height: size.height,
        };
        if (capture !== undefined) meta.captureServerMs = capture + this.#clockOffsetMs();
        const message = encodePeerMessage({ type: 'frame', meta, data });
        framesSent++;
        for (const link of targets()) link.send(message).catch(() => undefined);
      },
      error: (error) =>
        this.#events.emit('error', {
          error: new FramewireError('FW_ERR_ENCODE_FAILED', 'encoding a published source failed', {
            cause: error,
            stage: 'publish',
          }),
          fatal: false,
        }),
    });
    this.#publications.set(id, { ...(options.to ? { to: options.to } : {}), keyFrame: () => (needKey = true) });
    const pump = (async () => {
      let count = 0;
      for (let frame = await source.read(); frame; frame = await source.read()) {
        if (isStopped()) {
          frame.close();
          break;
        }
        if (encoder.state === 'unconfigured') {
          size = { width: frame.codedWidth, height: frame.codedHeight };
          encoder.configure({
            codec,
            width: size.width,
            height: size.height,
            bitrate: options.bitrateBps ?? 1_000_000,
            latencyMode: 'realtime',
          });
        }
        if (encoder.state !== 'configured') {
          frame.close();
          break;
        }
        captures.set(frame.timestamp, getCaptureTime(frame));
        const keyFrame = needKey || count % keyInterval === 0;
        needKey = false;
        count++;
        encoder.encode(frame, { keyFrame });
        frame.close();
        // Backpressure: the encoder and the slowest peer's channel bound what is in flight.
        while (encoder.encodeQueueSize > 2) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (encoder.state === 'configured') await encoder.flush().catch(() => undefined);
    })();
    return {
      id,
      delivery: 'data',
      get framesSent() {
        return framesSent;
      },
      close: async () => {
        if (stopped) return;
        stopped = true;
        this.#publications.delete(id);
        await pump.catch(() => undefined);
        if (encoder.state !== 'closed') encoder.close();
        const end = encodePeerMessage({ type: 'frame-end', pub: id });
        await Promise.all(targets().map((l) => l.send(end).catch(() => undefined)));
      },
    };
  }

  /** A receiver asked publication `pub` for a key frame. */
  requestKeyFrame(pub: number): void {
    this.#publications.get(pub)?.keyFrame();
  }

  /** The link to `peerId` opened: the publications it receives start it with a key frame. */
  onPeerOpen(peerId: string): void {
    for (const pub of this.#publications.values()) if (!pub.to || pub.to.includes(peerId)) pub.keyFrame();
  }
}
