import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { assertOption, createLogger } from '@framewire/core';
import { listen } from '@framewire/core/node';
import { pickMqttSubprotocol } from '../mqtt/mqtt-subprotocol.js';

/** Options of {@link MqttWebSocketRelay}. */
export interface MqttWebSocketRelayOptions {
  /** Host of the broker's plain MQTT (TCP) listener. Default: `127.0.0.1`. */
  brokerHost?: string;
  /** Port of the broker's plain MQTT (TCP) listener. Default: 1883. */
  brokerPort?: number;
  /** Most WebSocket clients relayed at once; more are refused with HTTP 503. Default: 64. */
  maxClients?: number;
}

const log = createLogger('mqtt-ws-relay');

/**
 * MQTT over WebSocket for browsers, in front of a broker's plain TCP listener: each WebSocket (subprotocol
 * `mqtt`) is piped byte for byte to a new TCP connection to the one configured broker (never elsewhere), so
 * the broker still does authentication and authorisation. Use it when the broker has no WebSocket listener, or
 * when its WebSocket listener is slow with frame-sized messages (mosquitto 2.0 with some libwebsockets builds
 * delivers messages above a few KB at a few per second; see docs/guides/mqtt.md).
 */
export class MqttWebSocketRelay {
  readonly #brokerHost: string;
  readonly #brokerPort: number;
  readonly #maxClients: number;
  readonly #wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: pickMqttSubprotocol,
  });
  readonly #pairs = new Set<{ ws: WebSocket; tcp: Socket }>();
  #server: Server | undefined;
  #closed = false;

  /** Creates the relay; mount it with `handleUpgrade` or give it its own port with `listen`. */
  constructor(options: MqttWebSocketRelayOptions = {}) {
    this.#brokerHost = options.brokerHost ?? '127.0.0.1';
    this.#brokerPort = options.brokerPort ?? 1883;
    this.#maxClients = options.maxClients ?? 64;
    assertOption(
      typeof this.#brokerHost === 'string' && this.#brokerHost.length > 0,
      'options.brokerHost must be a host name',
    );
    assertOption(
      Number.isInteger(this.#brokerPort) && this.#brokerPort > 0 && this.#brokerPort < 65536,
      'options.brokerPort must be a TCP port',
    );
    assertOption(
      Number.isInteger(this.#maxClients) && this.#maxClients > 0,
      'options.maxClients must be an integer > 0',
    );
  }

  /** WebSocket clients being relayed now. */
  get clientCount(): number {
    return this.#pairs.size;
  }

  /** Takes over an HTTP upgrade request (from an existing server's `upgrade` event) and relays it. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed || this.#pairs.size >= this.#maxClients) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#relay(ws));
  }

  /**
   * Listens on its own HTTP server (any path upgrades) and resolves with the port. Rejects with
   * `FW_ERR_LISTEN_FAILED`. Default: 127.0.0.1, a free port.
   */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = createServer((_request, response) => response.writeHead(426).end('MQTT over WebSocket only'));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(request, socket, head),
    );
    this.#server = server;
    return listen(server, host, port);
  }

  /** Closes every relayed connection and the server. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { ws, tcp } of this.#pairs) {
      ws.terminate();
      tcp.destroy();
    }
    this.#pairs.clear();
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  #relay(ws: WebSocket): void {
    const tcp = connect({ host: this.#brokerHost, port: this.#brokerPort, noDelay: true });
    const pair = { ws, tcp };
    this.#pairs.add(pair);
    const end = (): void => {
      this.#pairs.delete(pair);
      ws.terminate();
      tcp.destroy();
    };
    tcp.on('data', (chunk: Buffer) => {
      ws.send(chunk, { binary: true });
      // Backpressure: stop reading from the broker while the browser's socket is behind.
      if (ws.bufferedAmount > 1 << 22) {
        tcp.pause();
        const resume = setInterval(() => {
          if (ws.bufferedAmount < 1 << 20 || ws.readyState !== ws.OPEN) {
            clearInterval(resume);
            tcp.resume();
          }
        }, 10);
      }
    });
    ws.on('message', (data) => tcp.write(data as Buffer));
    tcp.on('error', (error) => {
      log.warn(`broker ${this.#brokerHost}:${this.#brokerPort}: ${error.message}`);
      end();
    });
    tcp.on('close', end);
    ws.on('close', end);
    ws.on('error', end);
  }
}
