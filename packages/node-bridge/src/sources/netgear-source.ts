import { Pair, Reply, type Socket } from 'zeromq';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import { FramePool, type PooledBuffer } from '../media/frame-pool.js';
import { isRawFrame } from '../media/source-frame.js';
import {
  packMsgpack,
  parseNetGearAsyncMessage,
  parseNetGearMessage,
  type NetGearLimits,
  type NetGearMessage,
  type NetGearPattern,
} from '../netgear/netgear-wire.js';
import { netGearAsyncReplyParts, netGearReplyParts } from '../netgear/netgear-reply.js';
import { openNetGearZeromqSocket } from '../netgear/netgear-zeromq-socket.js';
import { ZmtpReceiver, type ZmtpIncoming } from '../netgear/zmtp-receiver.js';
import type { ZmtpSocketType } from '../netgear/zmtp-wire.js';
import { SourceBase } from './source-base.js';

/** Options of {@link NetGearSource}. */
export interface NetGearSourceOptions {
  /** Source id. Default: `netgear`. */
  id?: string;
  /** Address to bind (the receiver binds, vidgear senders connect). Default: `127.0.0.1`; `*` for every interface. */
  address?: string;
  /** Port to bind. Default: 5555. */
  port?: number;
  /**
   * Multi-server mode (vidgear's `multiserver_mode`, patterns 1 and 2): every header must carry `port` equal to
   * this source's `port` (the sender's identity), otherwise the message is dropped with `FW_ERR_PROTOCOL_VIOLATION`.
   * {@link netGearMultiServerSources} makes one such source per sender port. Default: false.
   */
  multiServer?: boolean;
  /** `tcp` or `ipc` (then `address` is the socket path). Default: `tcp`. */
  protocol?: 'tcp' | 'ipc';
  /** 0 PAIR, 1 REQ/REP, 2 PUB/SUB (3 PUSH/PULL with `async`). Default: 0. */
  pattern?: NetGearPattern;
  /** Speak NetGear_Async's msgpack format instead of NetGear's JSON one. Default: false. */
  async?: boolean;
  /** Bidirectional mode: answer each frame with `returnData(message, port)` (patterns 0 and 1). Default: false. */
  bidirectional?: boolean;
  /**
   * Computes the reply to a sender's `message` in bidirectional mode: any JSON value, or an array (a uint8 image)
   * given as a raw frame `{ width, height, format: 'BGR24' | 'GRAY8', data }`, an ndarray-like
   * `{ shape: [rows, cols] | [rows, cols, 3], dtype?: 'uint8', data }` or a JPEG `{ codec: 'jpeg', data }`, which
   * travels as NetGear's two-part array reply (NetGear_Async: a msgpack-numpy part; raw arrays only). Default:
   * replies null.
   */
  returnData?: (message: unknown, port: string | undefined) => unknown;
  /** 0 off, 1 StoneHouse (CURVE encryption), 2 IronHouse (plus client key authorisation). Default: 0. */
  secureMode?: 0 | 1 | 2;
  /** vidgear's key folder: `private_keys/server.key_secret`, and for IronHouse `public_keys/*.key` of the clients. Required with `secureMode`. */
  keysDir?: string;
  /** Largest accepted frame, in bytes. Default: 64 MiB (8K BGR fits). */
  maxFrameBytes?: number;
  /**
   * What speaks ZeroMQ. `zmtp`: the built-in receiver (TCP without CURVE), which reads raw frames straight into
   * reused buffers; `zeromq`: zeromq.js (libzmq), needed for `secureMode` and `ipc`. Default: `zmtp` where it
   * applies, `zeromq` otherwise.
   */
  engine?: NetGearEngine;
  /**
   * With the `zmtp` engine, receive raw frames into a few reused buffers instead of a new one per frame (faster:
   * no fresh memory and no garbage collection per frame). A reused frame carries `retain()` (see `RawFrame`): a
   * listener that keeps its bytes after returning must retain or copy them. The bridge's own outputs do; sources
   * made from a `netgear://` spec turn this on. Default: false.
   */
  reuseBuffers?: boolean;
}

/** The ZeroMQ implementation a {@link NetGearSource} receives with. */
export type NetGearEngine = 'zmtp' | 'zeromq';

const log = createLogger('netgear');

const ZMTP_TYPES: Record<NetGearPattern, ZmtpSocketType> = { 0: 'PAIR', 1: 'REP', 2: 'SUB', 3: 'PULL' };

/**
 * A vidgear NetGear receiver over ZeroMQ: Python senders (`NetGear(..., receive_mode=False)` or NetGear_Async)
 * connect and push raw BGR/grey arrays or JPEGs, which become bridge frames for every output. Every header is
 * validated (dtype, shape, byte count, size limit): a bad message is dropped with a non-fatal
 * `FW_ERR_PROTOCOL_VIOLATION` or `FW_ERR_FRAME_TOO_LARGE` error, and REQ/REP senders still get their reply.
 */
export class NetGearSource extends SourceBase {
  /** The endpoints bound, e.g. `tcp://127.0.0.1:5555`. */
  readonly endpoints: readonly string[];
  /** The port bound (in multi-server mode, the identity its sender puts in every header). */
  readonly port: number;
  readonly #options: NetGearSourceOptions;
  /** The ZeroMQ implementation in use (see {@link NetGearSourceOptions.engine}). */
  readonly engine: NetGearEngine;
  readonly #pattern: NetGearPattern;
  readonly #limits: NetGearLimits;
  readonly #pool: FramePool;
  #receiver: ZmtpReceiver | undefined;
  #socket: Socket | undefined;
  #removeZapRule: (() => void) | undefined;
  #lastMessage: unknown = null;

  /** Validates the options; `start()` binds. */
  constructor(options: NetGearSourceOptions = {}) {
    super(options.id ?? 'netgear', 'netgear');
    const pattern = options.pattern ?? 0;
    assertOption([0, 1, 2, 3].includes(pattern), `pattern must be 0, 1, 2 or 3; got ${pattern}`);
    assertOption(pattern !== 3 || options.async, 'pattern 3 (PUSH/PULL) exists only with async (NetGear_Async)');
    const port = options.port ?? 5555;
    assertOption(Number.isInteger(port) && port > 0 && port < 65536, `port must be in 1..65535; got ${port}`);
    assertOption(!options.multiServer || pattern === 1 || pattern === 2, 'multi-server mode needs pattern 1 or 2');
    assertOption(!(options.multiServer && options.async), 'NetGear_Async has no multi-server mode');
    const secureMode = options.secureMode ?? 0;
    assertOption([0, 1, 2].includes(secureMode), 'secureMode must be 0, 1 or 2');
    assertOption(secureMode === 0 || typeof options.keysDir === 'string', 'keysDir is required with secureMode');
    assertOption(!(secureMode && options.async), 'NetGear_Async has no secure mode');
    const protocol = options.protocol ?? 'tcp';
    assertOption(['tcp', 'ipc'].includes(protocol), 'protocol must be tcp or ipc');
    const address = options.address ?? '127.0.0.1';
    this.endpoints = [protocol === 'ipc' ? `ipc://${address}` : `tcp://${address}:${port}`];
    const builtin = protocol === 'tcp' && secureMode === 0;
    const engine: string | undefined = options.engine; // from a spec or JavaScript: any string
    assertOption(
      engine === undefined || engine === 'zeromq' || (engine === 'zmtp' && builtin),
      `engine must be zmtp or zeromq (zmtp speaks TCP without a secure mode); got ${engine}`,
    );
    this.engine = options.engine ?? (builtin ? 'zmtp' : 'zeromq');
    this.#pool = new FramePool(options.reuseBuffers ? 8 : 0);
    this.#limits = { maxFrameBytes: options.maxFrameBytes ?? 64 * 1024 * 1024, maxDimension: 8192 };
    this.port = port;
    this.#pattern = pattern;
    this.#options = options;
  }

  /** The newest `message` a sender attached to a frame (bidirectional and multi-server modes). */
  get lastMessage(): unknown {
    return this.#lastMessage;
  }

  /** Binds the socket(s) and starts receiving. Rejects with `FW_ERR_LISTEN_FAILED` when a port is taken. */
  async start(): Promise<void> {
    if (this.#receiver || this.#socket || this.closed) return;
    this.setState('starting');
    try {
      if (this.engine === 'zmtp') await this.#startZmtp();
      else await this.#startZeromq();
    } catch (error) {
      if (error instanceof FramewireError) throw error;
      throw new FramewireError(
        'FW_ERR_LISTEN_FAILED',
        `netgear source "${this.id}": cannot bind ${this.endpoints.join(', ')} (${(error as Error).message})`,
        { cause: error, fatal: true, stage: 'listen' },
      );
    }
    log.info(
      `netgear source "${this.id}" listening on ${this.endpoints.join(', ')} (pattern ${this.#pattern}${this.#options.async ? ', async' : ''}, ${this.engine})`,
    );
  }

  /** Closes the socket. */
  protected async release(): Promise<void> {
    this.#socket?.close();
    this.#removeZapRule?.();
    this.#socket = undefined;
    const receiver = this.#receiver;
    this.#receiver = undefined;
    await receiver?.close();
  }

  async #startZmtp(): Promise<void> {
    const receiver = new ZmtpReceiver({
      type: ZMTP_TYPES[this.#pattern],
      maxPartBytes: this.#limits.maxFrameBytes + 64 * 1024,
      pool: this.#pool,
      onMessage: (message) => {
        const reply = this.#onZmtpMessage(message);
        if (reply) message.reply?.(reply.map((part) => (typeof part === 'string' ? Buffer.from(part) : part)));
      },
      onPeerError: (reason) => {
        log.warn(`netgear source "${this.id}": refused a peer: ${reason}`);
        this.reportError(this.error('FW_ERR_PROTOCOL_VIOLATION', `refused a peer: ${reason}`));
      },
    });
    this.#receiver = receiver;
    try {
      await receiver.bind(this.#options.address ?? '127.0.0.1', this.port);
    } catch (error) {
      this.#receiver = undefined;
      await receiver.close();
      throw error;
    }
  }

  #onZmtpMessage(message: ZmtpIncoming): (string | Buffer)[] | undefined {
    if (message.oversizeBytes !== undefined) {
      const error = this.error(
        'FW_ERR_FRAME_TOO_LARGE',
        `a ${message.oversizeBytes} byte message part is over the ${this.#limits.maxFrameBytes} byte limit`,
      );
      return this.#replyParts(this.#dropped(error));
    }
    if (message.problem)
      return this.#replyParts(this.#dropped(this.error('FW_ERR_PROTOCOL_VIOLATION', message.problem)));
    return this.#replyParts(this.#handle(message.parts, message.leases[1]));
  }

  async #startZeromq(): Promise<void> {
    const { socket, removeZapRule } = await openNetGearZeromqSocket({
      pattern: this.#pattern,
      maxMessageBytes: this.#limits.maxFrameBytes + 64 * 1024,
      secureMode: this.#options.secureMode ?? 0,
      ...(this.#options.keysDir ? { keysDir: this.#options.keysDir } : {}),
      domainName: `framewire-netgear-${this.id}-${process.pid}`,
    });
    this.#socket = socket;
    this.#removeZapRule = removeZapRule;
    try {
      for (const endpoint of this.endpoints) await socket.bind(endpoint);
    } catch (error) {
      this.#socket = undefined;
      socket.close();
      throw error;
    }
    void this.#receiveZeromq(socket);
  }

  async #receiveZeromq(socket: Socket): Promise<void> {
    const replies = this.#pattern === 0 || this.#pattern === 1;
    try {
      for await (const parts of socket as unknown as AsyncIterable<Buffer[]>) {
        const parsed = this.#handle(parts, undefined);
        if (replies && (socket instanceof Reply || socket instanceof Pair)) await socket.send(this.#reply(parsed));
      }
    } catch (error) {
      if (this.closed) return;
      this.reportError(
        this.error('FW_ERR_CONNECTION_FAILED', `receiving failed: ${(error as Error).message}`, error, true),
      );
    }
  }

  /**
   * Parses and publishes one message; returns what was parsed (undefined when it was dropped). A raw frame read
   * into a pooled buffer (`lease`) travels with `retain`; a JPEG is copied out of it.
   */
  #handle(parts: Buffer[], lease: PooledBuffer | undefined): NetGearMessage | undefined {
    let parsed: NetGearMessage;
    try {
      parsed = this.#options.async
        ? parseNetGearAsyncMessage(parts, this.#limits)
        : parseNetGearMessage(parts, this.#limits);
      if (this.#options.multiServer && parsed.port !== String(this.port))
        throw this.error(
          'FW_ERR_PROTOCOL_VIOLATION',
          `multi-server mode: a message on port ${this.port} claims port ${JSON.stringify(parsed.port ?? null)}`,
        );
    } catch (error) {
      return this.#dropped(
        error instanceof FramewireError ? error : this.error('FW_ERR_PROTOCOL_VIOLATION', String(error), error),
      );
    }
    if (parsed.type === 'terminate') {
      log.info(`netgear source "${this.id}": the sender${parsed.port ? ` on port ${parsed.port}` : ''} terminated`);
      this.setState('starting');
    } else {
      this.#lastMessage = parsed.message;
      const frame = parsed.frame;
      if (lease && this.#options.reuseBuffers && frame.data.buffer === lease.data.buffer) {
        if (isRawFrame(frame)) frame.retain = lease.retain;
        else frame.data = Buffer.from(frame.data);
      }
      this.emitFrame(frame);
    }
    return parsed;
  }

  #dropped(failure: FramewireError): undefined {
    this.countDrop();
    log.warn(`netgear source "${this.id}": dropped a message: ${failure.message}`);
    this.reportError(failure);
    return undefined;
  }

  /** The reply parts for the built-in receiver, or undefined for patterns that do not reply. */
  #replyParts(parsed: NetGearMessage | undefined): (string | Buffer)[] | undefined {
    if (this.#pattern !== 0 && this.#pattern !== 1) return undefined;
    const reply = this.#reply(parsed);
    return Array.isArray(reply) ? reply : [reply];
  }

  #reply(parsed: NetGearMessage | undefined): Buffer | string | (string | Buffer)[] {
    const bidirectional = this.#options.bidirectional ?? false;
    if (bidirectional && parsed?.type === 'frame') {
      try {
        const data = this.#options.returnData?.(parsed.message, parsed.port) ?? null;
        return this.#options.async ? netGearAsyncReplyParts(data) : netGearReplyParts(data);
      } catch (error) {
        // The sender still needs its reply: it gets None, and the failure is reported.
        this.reportError(
          error instanceof FramewireError
            ? error
            : this.error('FW_ERR_INVALID_OPTION', `returnData failed: ${(error as Error).message}`, error),
        );
        return this.#options.async ? netGearAsyncReplyParts(null) : netGearReplyParts(null);
      }
    }
    if (this.#options.async) {
      if (parsed?.type === 'terminate')
        return packMsgpack({ terminated: 'Client-`' + this.id + '` successfully terminated!' });
      return Buffer.from('Data received on framewire');
    }
    return `Data received on device: ${this.id} !`;
  }
}
