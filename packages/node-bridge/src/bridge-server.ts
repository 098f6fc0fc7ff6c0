import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { assertOption, createLogger } from '@framewire/core';
import { closeServer, listen, sendJson } from '@framewire/core/node';
import { BRIDGE_PATHS, type BridgeHealth } from './protocol.js';
import type { FfmpegJpegSource } from './sources/ffmpeg-jpeg-source.js';
import { MjpegOutput } from './outputs/mjpeg-output.js';
import { VERSION } from './version.js';

/** Options of {@link BridgeServer.start}. */
export interface BridgeServerOptions {
  /** Interface to bind. Default: `127.0.0.1` (loopback only; use `0.0.0.0` to serve the LAN). */
  host?: string;
  /** TCP port; 0 picks a free one. Default: 8090. */
  port?: number;
  /** The sources to serve, started by the server. Required (at least one). */
  sources: FfmpegJpegSource[];
}

const log = createLogger('bridge');

/**
 * The bridge's HTTP server: `GET /health` (JSON {@link BridgeHealth}), and per source
 * `GET /sources/<id>/video` (MJPEG stream) and `GET /sources/<id>/snapshot.jpg`. The first source is also served
 * at `/video` and `/snapshot.jpg`, WebGear's URLs.
 */
export class BridgeServer {
  /** The bound port. */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  readonly #server: Server;
  readonly #sources: FfmpegJpegSource[];
  readonly #outputs: Map<string, MjpegOutput>;
  readonly #startedAtMs = Date.now();
  #closing: Promise<void> | undefined;

  private constructor(
    server: Server,
    host: string,
    port: number,
    sources: FfmpegJpegSource[],
    outputs: Map<string, MjpegOutput>,
  ) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.#sources = sources;
    this.#outputs = outputs;
  }

  /** Starts the sources and the HTTP server. Rejects with `FW_ERR_INVALID_OPTION` or `FW_ERR_LISTEN_FAILED`. */
  static async start(options: BridgeServerOptions): Promise<BridgeServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 8090;
    assertOption(
      Number.isInteger(port) && port >= 0 && port <= 65535,
      `port must be an integer in 0..65535; got ${port}`,
    );
    assertOption(options.sources.length > 0, 'sources must hold at least one source');
    const ids = new Set(options.sources.map((s) => s.id));
    assertOption(ids.size === options.sources.length, 'source ids must be unique');
    const outputs = new Map(options.sources.map((s) => [s.id, new MjpegOutput(s)]));
    const server = createServer();
    const bound = await listen(server, host, port);
    const bridge = new BridgeServer(server, host, bound, options.sources, outputs);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => bridge.#route(request, response));
    for (const source of options.sources) source.start();
    log.info(`listening on http://${host}:${bound}`, { sources: [...ids] });
    return bridge;
  }

  /** The current health report. */
  get health(): BridgeHealth {
    const sources = this.#sources.map((s) => s.health);
    return {
      status: sources.every((s) => s.state === 'running' || s.state === 'starting') ? 'ok' : 'degraded',
      service: 'framewire-bridge',
      version: VERSION,
      uptimeS: Math.round((Date.now() - this.#startedAtMs) / 1000),
      sources,
    };
  }

  /** Stops the sources, ends every client stream and closes the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const output of this.#outputs.values()) output.close();
      await Promise.all(this.#sources.map((s) => s.close()));
      await closeServer(this.#server);
    })();
    return this.#closing;
  }

  #route(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://bridge').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { error: 'method not allowed' });
      return;
    }
    if (path === BRIDGE_PATHS.health) {
      sendJson(response, 200, this.health);
      return;
    }
    const match = /^\/(?:sources\/([\w.-]+)\/)?(video|snapshot\.jpg)$/.exec(path);
    const id = match ? (match[1] ?? this.#sources[0]?.id) : undefined;
    const output = id === undefined ? undefined : this.#outputs.get(id);
    if (!match || !output) {
      sendJson(response, 404, { error: `not found: ${path}` });
      return;
    }
    if (match[2] === 'video') output.handleStream(request, response);
    else output.handleSnapshot(response);
  }
}
