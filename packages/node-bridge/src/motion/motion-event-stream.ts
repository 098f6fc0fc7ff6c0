import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BridgeMotionEvent } from '../protocol.js';

/** A comment line every this often keeps proxies and browsers from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/**
 * The bridge's `GET /events`: motion events as Server-Sent Events (`event: motion-start` or `motion-end`, `data:`
 * the JSON {@link BridgeMotionEvent}), to every connected client, as a browser's `EventSource` reads them. The
 * bridge authorizes the request (its token) before handing it over.
 */
export class MotionEventStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #corsOrigin: string;
  #heartbeat: NodeJS.Timeout | undefined;

  /** `corsOrigin` is the `Access-Control-Allow-Origin` of the stream. */
  constructor(corsOrigin: string) {
    this.#corsOrigin = corsOrigin;
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Takes over `response` as a client until it disconnects; `active` events are sent first (the current state). */
  handle(request: IncomingMessage, response: ServerResponse, active: readonly BridgeMotionEvent[]): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'access-control-allow-origin': this.#corsOrigin,
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n: framewire motion events\n\n');
    for (const event of active) response.write(format(event));
    this.#clients.add(response);
    request.on('close', () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stopHeartbeat();
    });
    this.#heartbeat ??= setInterval(() => {
      for (const client of this.#clients) client.write(': heartbeat\n\n');
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Sends `event` to every client. */
  broadcast(event: BridgeMotionEvent): void {
    const text = format(event);
    for (const client of this.#clients) client.write(text);
  }

  /** Ends every client's stream. Idempotent. */
  close(): void {
    this.#stopHeartbeat();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

function format(event: BridgeMotionEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
