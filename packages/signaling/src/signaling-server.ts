import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { assertOption, createLogger } from '@framewire/core';
import { closeServer, listen, sendJson } from '@framewire/core/node';
import { SIGNALING_PATHS, type SignalingHealth } from './protocol.js';
import { VERSION } from './version.js';

/** Options of {@link SignalingServer.start}. */
export interface SignalingServerOptions {
  /** Interface to bind. Default: `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default: 8443. */
  port?: number;
}

const log = createLogger('signaling');

/** The signaling server's HTTP side: `GET /health` answers {@link SignalingHealth}. */
export class SignalingServer {
  /** The bound port. */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  readonly #server: Server;
  readonly #startedAtMs = Date.now();
  #closing: Promise<void> | undefined;

  private constructor(server: Server, host: string, port: number) {
    this.#server = server;
    this.host = host;
    this.port = port;
  }

  /** Starts listening. Rejects with `FW_ERR_INVALID_OPTION` or `FW_ERR_LISTEN_FAILED`. */
  static async start(options: SignalingServerOptions = {}): Promise<SignalingServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 8443;
    assertOption(
      Number.isInteger(port) && port >= 0 && port <= 65535,
      `port must be an integer in 0..65535; got ${port}`,
    );
    const server = createServer();
    const bound = await listen(server, host, port);
    const signaling = new SignalingServer(server, host, bound);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const path = new URL(request.url ?? '/', 'http://signaling').pathname;
      if (path === SIGNALING_PATHS.health) sendJson(response, 200, signaling.health);
      else sendJson(response, 404, { error: `not found: ${path}` });
    });
    log.info(`listening on http://${host}:${bound}`);
    return signaling;
  }

  /** The current health report. */
  get health(): SignalingHealth {
    return {
      status: this.#closing ? 'draining' : 'ok',
      service: 'framewire-signaling',
      version: VERSION,
      uptimeS: Math.round((Date.now() - this.#startedAtMs) / 1000),
    };
  }

  /** Stops accepting connections and closes the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= closeServer(this.#server);
    return this.#closing;
  }
}
