import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FfmpegJpegSource } from '../sources/ffmpeg-jpeg-source.js';
import type { EncodedFrame } from '../sources/encoded-frame.js';

const BOUNDARY = 'framewireframe';

/**
 * MJPEG over HTTP (vidgear's WebGear): `multipart/x-mixed-replace` streams and single JPEG snapshots of one
 * source. A slow client never makes the bridge buffer: while its socket is still draining, new frames skip it
 * and it gets the newest frame once it catches up.
 */
export class MjpegOutput {
  readonly #source: FfmpegJpegSource;
  readonly #clients = new Set<ServerResponse>();
  readonly #unsubscribe: () => void;

  /** Serves `source`; frames are fanned out to every connected client. */
  constructor(source: FfmpegJpegSource) {
    this.#source = source;
    this.#unsubscribe = source.on('frame', ({ frame }) => {
      for (const client of this.#clients) this.#write(client, frame);
    });
  }

  /** Number of connected stream clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Answers `GET /video`: a never-ending multipart stream of JPEG frames. */
  handleStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      connection: 'close',
    });
    this.#clients.add(response);
    const drop = (): void => {
      this.#clients.delete(response);
    };
    request.on('close', drop);
    response.on('error', drop);
    const latest = this.#source.latest;
    if (latest) this.#write(response, latest);
  }

  /** Answers `GET /snapshot.jpg`: the newest frame, or 503 while the source has none yet. */
  handleSnapshot(response: ServerResponse): void {
    const latest = this.#source.latest;
    if (!latest) {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      response.end('No frame yet');
      return;
    }
    response.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': latest.data.length,
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      'x-capture-time-ms': String(latest.captureTimeMs),
    });
    response.end(latest.data);
  }

  /** Ends every stream and stops listening to the source. */
  close(): void {
    this.#unsubscribe();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #write(client: ServerResponse, frame: EncodedFrame): void {
    if (client.writableNeedDrain || client.destroyed) return;
    client.write(
      `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.data.length}\r\nX-Capture-Time-Ms: ${frame.captureTimeMs}\r\n\r\n`,
    );
    client.write(frame.data);
    client.write('\r\n');
  }
}
