import { join } from 'node:path';
import { Pair, Publisher, Request } from 'zeromq';
import { FramewireError, TypedEmitter, assertOption, createLogger } from '@framewire/core';
import { isRawFrame, type SourceFrame } from '../media/source-frame.js';
import { parseNetGearReply, type NetGearReply } from '../netgear/netgear-reply.js';
import { netGearHeader, readCurveCertificate } from '../netgear/netgear-wire.js';
import type { FrameFeed } from '../pipeline/frame-feed.js';
import type { OutputStats } from './output-stats.js';

/** Options of {@link NetGearOutput}. */
export interface NetGearOutputOptions {
  /** The receiver's address (it binds; this output connects). Default: `127.0.0.1`. */
  address?: string;
  /** The receiver's port. Default: 5555. */
  port?: number;
  /**
   * vidgear's multi-client mode (`multiclient_mode=True`): the ports of several receivers (each binds its own), all
   * at `address`; this output connects to every one of them with one socket, patterns 1 and 2 only. With pattern 2
   * (PUB/SUB) every receiver gets every frame; with pattern 1 (REQ/REP) ZeroMQ deals the frames out in turn, so
   * each receiver gets a different share, as with vidgear's sender. Replies may carry the receiver's `port`. When
   * set, `port` is ignored. Default: none (one receiver at `port`).
   */
  multiclientPorts?: number[];
  /** 0 PAIR, 1 REQ/REP, 2 PUB/SUB. Default: 0. */
  pattern?: 0 | 1 | 2;
  /** Bidirectional mode: replies carry `return_type`/`data`, delivered as `reply` events. Default: false. */
  bidirectional?: boolean;
  /** Milliseconds to wait for a reply (patterns 0 and 1) before dropping the frame and reconnecting. Default: 4000. */
  requestTimeoutMs?: number;
  /** Reconnects after timeouts in a row before the output gives up (fatal `FW_ERR_CONNECTION_FAILED`). Default: 3. */
  maxRetries?: number;
  /** Largest array reply accepted in bidirectional mode, in bytes. Default: 64 MiB. */
  maxReplyBytes?: number;
  /** 0 off, 1 StoneHouse, 2 IronHouse (CURVE). Default: 0. */
  secureMode?: 0 | 1 | 2;
  /** vidgear's key folder: `private_keys/client.key_secret` and `public_keys/server.key`. Required with `secureMode`. */
  keysDir?: string;
}

/** Events of a {@link NetGearOutput}. */
export type NetGearOutputEvents = {
  /**
   * A bidirectional reply from the receiver: a JSON value, or for `returnType` `ndarray` (a numpy array the
   * receiver returned) a raw `BGR24`/`GRAY8` frame or a `jpeg` frame.
   */
  reply: NetGearReply;
  /**
   * A timeout or send failure (`FW_ERR_CONNECTION_FAILED`, fatal after `maxRetries` reconnects in a row), or a
   * malformed bidirectional reply (`FW_ERR_PROTOCOL_VIOLATION` or `FW_ERR_FRAME_TOO_LARGE`, never fatal).
   */
  error: { error: FramewireError; fatal: boolean };
};

const log = createLogger('netgear-output');

/**
 * Sends a bridge source to a Python vidgear NetGear receiver (`NetGear(receive_mode=True)`): raw BGR arrays from a
 * `BGR24` feed, or JPEGs (NetGear's compression) from a `jpeg` feed. One frame is in flight at a time: frames
 * that arrive while a reply is awaited are skipped (the newest wins). Like vidgear's sender, a missing reply
 * drops the frame and reconnects (lazy pirate), giving up after `maxRetries`. `close()` sends the termination
 * message and is idempotent.
 */
export class NetGearOutput {
  /** Labels under which the bridge reports this output in `/metrics`. */
  readonly metricsLabels: { source: string; output: string };
  readonly #feed: FrameFeed;
  readonly #options: Required<Omit<NetGearOutputOptions, 'keysDir' | 'multiclientPorts'>> & { keysDir?: string };
  /** The receivers' ports: `multiclientPorts`, or `[port]`. */
  readonly #ports: number[];
  readonly #events = new TypedEmitter<NetGearOutputEvents>();
  #socket: Pair | Request | Publisher | undefined;
  #unsubscribe: (() => void) | undefined;
  #busy = false;
  #failures = 0;
  #message: unknown = null;
  #closing: Promise<void> | undefined;
  #framesSent = 0;
  #framesDropped = 0;
  #bytesSent = 0;

  /** Validates the options; `start()` connects. */
  constructor(feed: FrameFeed, options: NetGearOutputOptions = {}) {
    assertOption(feed.format === 'BGR24' || feed.format === 'jpeg', 'NetGear sends BGR24 or jpeg feeds');
    this.#options = {
      address: '127.0.0.1',
      port: 5555,
      pattern: 0,
      bidirectional: false,
      requestTimeoutMs: 4000,
      maxRetries: 3,
      maxReplyBytes: 64 * 1024 * 1024,
      secureMode: 0,
      ...options,
    };
    assertOption([0, 1, 2].includes(this.#options.pattern), 'pattern must be 0, 1 or 2');
    const multi = options.multiclientPorts;
    if (multi !== undefined) {
      assertOption(
        Array.isArray(multi) && multi.length > 0 && multi.every((p) => Number.isInteger(p) && p > 0 && p < 65536),
        `multiclientPorts must be a non-empty list of TCP ports; got ${JSON.stringify(multi)}`,
      );
      assertOption(new Set(multi).size === multi.length, `multiclientPorts has a port twice: ${multi.join(',')}`);
      assertOption(
        this.#options.pattern !== 0,
        'multiclientPorts (multi-client mode) needs pattern 1 (REQ/REP) or 2 (PUB/SUB), as in vidgear; got 0',
      );
    } else
      assertOption(
        Number.isInteger(this.#options.port) && this.#options.port > 0 && this.#options.port < 65536,
        `port must be a TCP port; got ${this.#options.port}`,
      );
    this.#ports = multi ? [...multi] : [this.#options.port];
    assertOption(this.#options.requestTimeoutMs > 0, 'requestTimeoutMs must be > 0');
    assertOption(this.#options.maxReplyBytes > 0, 'maxReplyBytes must be > 0');
    assertOption(
      this.#options.secureMode === 0 || typeof options.keysDir === 'string',
      'keysDir is required with secureMode',
    );
    this.#feed = feed;
    this.metricsLabels = { source: feed.source.id, output: 'netgear' };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof NetGearOutputEvents>(event: E, listener: (payload: NetGearOutputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The counters (`clients` is the number of receivers while connected: 1, or the multi-client ports). */
  get stats(): OutputStats {
    return {
      clients: this.#socket ? this.#ports.length : 0,
      framesSent: this.#framesSent,
      framesDropped: this.#framesDropped,
      bytesSent: this.#bytesSent,
    };
  }

  /** Sets the `message` sent with every following frame (bidirectional mode). */
  setMessage(message: unknown): void {
    this.#message = message;
  }

  /** Connects and starts sending. */
  async start(): Promise<void> {
    if (this.#socket || this.#closing) return;
    await this.#connect();
    this.#unsubscribe = this.#feed.subscribe((frame) => void this.#send(frame));
  }

  /** Sends the termination message and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unsubscribe?.();
      const socket = this.#socket;
      this.#socket = undefined;
      if (socket && !this.#busy) {
        try {
          // REQ deals messages out in turn: one termination per receiver reaches each of them (PUB: one for all).
          const rounds = this.#options.pattern === 1 ? this.#ports.length : 1;
          for (let i = 0; i < rounds; i++) {
            await socket.send(JSON.stringify({ terminate_flag: true }));
            if (this.#options.pattern !== 2) await this.#receive(socket, 500);
          }
        } catch {
          // The receiver may be gone already: terminating is best effort.
        }
      }
      socket?.close();
      this.#events.removeAllListeners();
    })();
    return this.#closing;
  }

  async #connect(): Promise<void> {
    const { pattern, address, secureMode, keysDir } = this.#options;
    const socket = pattern === 0 ? new Pair() : pattern === 1 ? new Request() : new Publisher();
    socket.linger = 0;
    if (socket instanceof Publisher) socket.sendHighWaterMark = 1;
    if (secureMode > 0 && keysDir) {
      const client = await readCurveCertificate(join(keysDir, 'private_keys', 'client.key_secret'));
      const server = await readCurveCertificate(join(keysDir, 'public_keys', 'server.key'));
      socket.curvePublicKey = client.publicKey;
      socket.curveSecretKey = client.secretKey ?? '';
      socket.curveServerKey = server.publicKey;
    }
    for (const port of this.#ports) socket.connect(`tcp://${address}:${port}`);
    this.#socket = socket;
  }

  async #send(frame: SourceFrame): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#busy) {
      this.#framesDropped++;
      return;
    }
    this.#busy = true;
    try {
      const header = netGearHeader(frame, this.#options.pattern, this.#message);
      // zeromq.js sends large buffers without copying and lets go of them later: a pooled frame is copied.
      await socket.send([header, isRawFrame(frame) && frame.retain ? Buffer.from(frame.data) : frame.data]);
      this.#framesSent++;
      this.#bytesSent += frame.data.length;
      if (this.#options.pattern === 2) return;
      const reply = await this.#receive(socket, this.#options.requestTimeoutMs);
      if (reply === undefined) throw new Error(`no reply within ${this.#options.requestTimeoutMs} ms`);
      this.#failures = 0;
      if (this.#options.bidirectional) this.#emitReply(reply);
    } catch (error) {
      if (this.#closing) return;
      this.#failures++;
      const fatal = this.#failures > this.#options.maxRetries;
      const failure = new FramewireError(
        'FW_ERR_CONNECTION_FAILED',
        `NetGear receiver at ${this.#options.address}:${this.#ports.join(',')}: ${(error as Error).message}`,
        { cause: error, fatal, stage: 'netgear' },
      );
      log.warn(failure.message);
      this.#events.emit('error', { error: failure, fatal });
      // Lazy pirate: a REQ socket that missed its reply is unusable; start over with a new one.
      socket.close();
      this.#socket = undefined;
      if (fatal) this.#unsubscribe?.();
      else await this.#connect();
    } finally {
      this.#busy = false;
    }
  }

  #emitReply(parts: Buffer[]): void {
    const limits = { maxFrameBytes: this.#options.maxReplyBytes, maxDimension: 8192 };
    let reply: NetGearReply;
    try {
      reply = parseNetGearReply(parts, limits);
    } catch (error) {
      const failure =
        error instanceof FramewireError
          ? error
          : new FramewireError('FW_ERR_PROTOCOL_VIOLATION', String(error), { cause: error, stage: 'netgear' });
      log.warn(`dropped a bidirectional reply: ${failure.message}`);
      this.#events.emit('error', { error: failure, fatal: false });
      return;
    }
    this.#events.emit('reply', reply);
  }

  async #receive(socket: Pair | Request | Publisher, timeoutMs: number): Promise<Buffer[] | undefined> {
    if (socket instanceof Publisher) return undefined;
    socket.receiveTimeout = timeoutMs;
    try {
      return await socket.receive();
    } catch (error) {
      if ((error as { code?: string }).code === 'EAGAIN') return undefined;
      throw error;
    }
  }
}
