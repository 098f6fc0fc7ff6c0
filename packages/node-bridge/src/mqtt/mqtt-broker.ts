import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { assertOption, createLogger } from '@framewire/core';
import { listen } from '@framewire/core/node';
import { pickMqttSubprotocol } from './mqtt-subprotocol.js';

/** Options of {@link MqttBroker.start}. */
export interface MqttBrokerOptions {
  /** Interface of the plain MQTT (TCP) listener. Default: `127.0.0.1`. */
  host?: string;
  /** Port of the plain MQTT (TCP) listener; 0 for any free port. Default: 1883. */
  port?: number;
  /**
   * When set, TCP clients must give this password (with any user name: MQTT 3.1.1 sends a password only with one). WebSocket clients come through
   * {@link MqttBroker.handleUpgrade}, which the bridge calls only after its own token check.
   */
  password?: string;
  /** Bytes waiting for one subscriber above which messages for it are skipped, not queued. Default: 4 MiB. */
  maxBufferedBytes?: number;
}

const log = createLogger('mqtt-broker');

/**
 * An MQTT 3.1.1 broker inside the bridge (aedes), for users without one: plain MQTT on a TCP port and MQTT over
 * WebSocket through the bridge's own port (`/mqtt`), straight into the broker. Unlike mosquitto 2.0's WebSocket
 * listener it delivers frame-sized messages at the camera's rate (bench/mqtt.bench.mjs). A subscriber that cannot
 * keep up has messages skipped rather than queued without bound, and never holds the others up: frames are live,
 * the next one replaces them.
 */
export class MqttBroker {
  /** The TCP listener's port. */
  readonly port: number;
  /** The TCP listener's URL, e.g. `mqtt://127.0.0.1:1883`, for the bridge's own publishers. */
  readonly url: string;
  readonly #broker: Aedes;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: pickMqttSubprotocol,
  });
  readonly #sockets = new Set<WebSocket>();
  readonly #skipped: { count: number };
  #closed = false;

  private constructor(broker: Aedes, server: Server, host: string, port: number, skipped: { count: number }) {
    this.#broker = broker;
    this.#skipped = skipped;
    this.#server = server;
    this.port = port;
    this.url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /**
   * Starts the broker and its TCP listener. Throws `FW_ERR_INVALID_OPTION` for bad options and
   * `FW_ERR_LISTEN_FAILED` when the port is taken.
   */
  static async start(options: MqttBrokerOptions = {}): Promise<MqttBroker> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 1883;
    const maxBuffered = options.maxBufferedBytes ?? 4 << 20;
    assertOption(typeof host === 'string' && host.length > 0, 'mqttBroker.host must be an interface address');
    assertOption(
      Number.isInteger(port) && port >= 0 && port < 65536,
      `mqttBroker.port must be a TCP port; got ${port}`,
    );
    assertOption(Number.isInteger(maxBuffered) && maxBuffered > 0, 'mqttBroker.maxBufferedBytes must be > 0');
    assertOption(
      options.password === undefined || (typeof options.password === 'string' && options.password.length > 0),
      'mqttBroker.password must be a non-empty string',
    );
    const expected = options.password === undefined ? undefined : digest(options.password);
    const skipped = { count: 0 };
    const broker = await Aedes.createBroker({
      authenticate: (client, _username, password, done) => {
        // WebSocket clients passed the bridge's token check before their upgrade reached the broker.
        if (expected === undefined || client.req !== undefined) {
          done(null, true);
          return;
        }
        const ok = password !== undefined && timingSafeEqual(digest(password), expected);
        done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 as const }), ok);
      },
      authorizeForward: (client, packet) => {
        if (behind(client) <= maxBuffered) return packet;
        skipped.count++;
        return null;
      },
    });
    broker.on('clientError', (client: Client, error: Error) => log.debug(`client ${client.id}: ${error.message}`));
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      broker.handle(neverWaiting(socket));
    });
    try {
      const bound = await listen(server, host, port);
      return new MqttBroker(broker, server, host, bound, skipped);
    } catch (error) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw error;
    }
  }

  /** Clients connected now (TCP and WebSocket). */
  get clientCount(): number {
    return this.#broker.connectedClients;
  }

  /** Messages skipped for subscribers that were more than `maxBufferedBytes` behind. */
  get skipped(): number {
    return this.#skipped.count;
  }

  /** Takes over an HTTP upgrade the bridge authorized (`mountWebSocket('/mqtt', broker)`). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      // The stream keeps its socket, so that the forward check sees the browser's backlog too.
      Object.assign(stream, { webSocket: ws });
      this.#broker.handle(neverWaiting(stream), request);
    });
  }

  /** Disconnects every client and stops listening. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ws of this.#sockets) ws.terminate();
    this.#server.close();
    await new Promise<void>((resolve) => this.#broker.close(() => resolve()));
  }
}

/**
 * `conn` with a `write()` that never asks to wait. aedes waits for `drain` when a write returns false, and one
 * subscriber that stops reading then holds every delivery, to every client, up to its drain timeout. Live frames
 * must not wait: the forward check above skips messages for a subscriber that is behind, which bounds its buffer.
 */
function neverWaiting<T extends Duplex>(conn: T): T {
  const write = conn.write.bind(conn) as (...args: unknown[]) => boolean;
  conn.write = ((...args: unknown[]) => {
    write(...args);
    return true;
  }) as T['write'];
  return conn;
}

/** Bytes written to `client` but not yet sent: the stream's buffer plus a WebSocket's own. */
function behind(client: Client): number {
  const conn = client.conn as Duplex & { webSocket?: WebSocket };
  return conn.writableLength + (conn.webSocket?.bufferedAmount ?? 0);
}

function digest(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
