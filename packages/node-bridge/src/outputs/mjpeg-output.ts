import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SourceFrame } from '../media/source-frame.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { OutputStats } from './output-stats.js';

const BOUNDARY = 'framewireframe';

/** Counters of an {@link MjpegOutput} (see {@link MjpegOutput.stats}). */
export type MjpegOutputStats = OutputStats;

/**
 * MJPEG over HTTP (vidgear's WebGear): `multipart/x-mixed-replace` streams and single JPEG snapshots of one
 * source, from a shared JPEG {@link FrameFeed} (the source's own JPEG, or one encoder for all viewers). Every
 * viewer gets every frame it can take; a slow viewer never makes the bridge buffer: while its socket is still
 * draining, new frames skip it and it gets the newest frame once it catches up.
 */
export class MjpegOutput {
  readonly #feed: FrameFeed;
  readonly #corsOrigin: string;
  readonly #clients = new Map<ServerResponse, () => void>();
  #framesSent = 0;
  #framesDropped = 0;
  #bytesSent = 0;

  /** Serves the JPEG `feed`; `corsOrigin` is sent as `Access-Control-Allow-Origin` (default `*`). */
  constructor(feed: FrameFeed, corsOrigin = '*') {
    this.#feed = feed;
    this.#corsOrigin = corsOrigin;
  }

  /**
   * The counters: `clients` are the connected stream viewers, `framesSent` the frames written to them (one per viewer
   * per frame), `framesDropped` those a slow viewer skipped because its socket was still draining, `bytesSent` the
   * bytes written.
   */
  get stats(): MjpegOutputStats {
    return {
      clients: this.#clients.size,
      framesSent: this.#framesSent,
      framesDropped: this.#framesDropped,
      bytesSent: this.#bytesSent,
    };
  }

  /** Answers `GET /video`: a never-ending multipart stream of JPEG frames. */
  handleStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'cache-control': 'no-store',
      'access-control-allow-origin': this.#corsOrigin,
      connection: 'close',
    });
    const unsubscribe = this.#feed.subscribe((frame) => this.#write(response, frame));
    this.#clients.set(response, unsubscribe);
    const drop = (): void => {
      this.#clients.get(response)?.();
      this.#clients.delete(response);
    };
    request.on('close', drop);
    response.on('error', drop);
    const latest = this.#feed.latest;
    if (latest && Date.now() - latest.captureTimeMs < 2000) this.#write(response, latest);
  }

  /** Answers `GET /snapshot.jpg`: the newest frame (waiting up to `timeoutMs` for one), or 503. */
  async handleSnapshot(response: ServerResponse, timeoutMs = 5000): Promise<void> {
    let frame = this.#feed.latest;
    if (!frame || Date.now() - frame.captureTimeMs > 1000) {
      frame = await new Promise<SourceFrame | undefined>((resolve) => {
        const timer = setTimeout(() => {
          unsubscribe();
          resolve(undefined);
        }, timeoutMs);
        const unsubscribe = this.#feed.subscribe((next) => {
          clearTimeout(timer);
          unsubscribe();
          resolve(next);
        });
      });
    }
    if (!frame) {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      response.end('No frame yet');
      return;
    }
    response.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': frame.data.length,
      'cache-control': 'no-store',
      'access-control-allow-origin': this.#corsOrigin,
      'access-control-expose-headers': 'x-capture-time-ms',
      'x-capture-time-ms': String(frame.captureTimeMs),
    });
    response.end(frame.data);
  }

  /** Ends every stream. */
  close(): void {
    for (const [client, unsubscribe] of this.#clients) {
      unsubscribe();
      client.end();
    }
    this.#clients.clear();
  }

  #write(client: ServerResponse, frame: SourceFrame): void {
    if (client.destroyed) return;
    if (client.writableNeedDrain) {
      this.#framesDropped++;
      return;
    }
    client.write(
      `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.data.length}\r\nX-Capture-Time-Ms: ${frame.captureTimeMs}\r\n\r\n`,
    );
    client.write(frame.data);
    client.write('\r\n');
    this.#framesSent++;
    this.#bytesSent += frame.data.length;
  }
}
