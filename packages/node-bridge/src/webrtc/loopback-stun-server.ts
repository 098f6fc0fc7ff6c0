import dgram from 'node:dgram';
import { createLogger } from '@framewire/core';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_RESPONSE = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const log = createLogger('stun');

/**
 * A STUN server (RFC 8489 Binding requests only, IPv4) on 127.0.0.1, for the bridge's own werift peer connections:
 * werift falls back to a public STUN server (`stun.l.google.com`) whenever it has none, so the bridge gives it
 * this one instead and no gathering ever leaves the machine. It answers each Binding request with the sender's
 * address and ignores everything else.
 */
export class LoopbackStunServer {
  readonly #socket = dgram.createSocket('udp4');
  #port = 0;
  #closed = false;

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(): Promise<LoopbackStunServer> {
    const server = new LoopbackStunServer();
    await server.#listen();
    return server;
  }

  private constructor() {
    this.#socket.on('error', (error) => log.warn(`loopback STUN server: ${error.message}`));
    this.#socket.on('message', (message, remote) => this.#answer(message, remote));
  }

  /** The server's `stun:` URL, e.g. `stun:127.0.0.1:40000`. */
  get url(): string {
    return `stun:127.0.0.1:${this.#port}`;
  }

  /** Stops the server. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(0, '127.0.0.1', () => {
        this.#socket.off('error', reject);
        this.#socket.unref();
        this.#port = this.#socket.address().port;
        resolve();
      });
    });
  }

  #answer(message: Buffer, remote: dgram.RemoteInfo): void {
    if (message.length < 20 || message.readUInt16BE(0) !== BINDING_REQUEST) return;
    if (message.readUInt32BE(4) !== MAGIC_COOKIE || remote.family !== 'IPv4') return;
    const response = Buffer.alloc(32);
    response.writeUInt16BE(BINDING_RESPONSE, 0);
    response.writeUInt16BE(12, 2);
    response.writeUInt32BE(MAGIC_COOKIE, 4);
    message.copy(response, 8, 8, 20); // transaction id
    response.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
    response.writeUInt16BE(8, 22);
    response.writeUInt16BE(0x0001, 24); // IPv4
    response.writeUInt16BE(remote.port ^ (MAGIC_COOKIE >>> 16), 26);
    const address = remote.address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
    response.writeUInt32BE((address ^ MAGIC_COOKIE) >>> 0, 28);
    this.#socket.send(response, remote.port, remote.address);
  }
}
