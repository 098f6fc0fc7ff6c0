import { join } from 'node:path';
import { Pair, Pull, Reply, Subscriber, type Socket } from 'zeromq';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  packMsgpack,
  parseNetGearAsyncMessage,
  parseNetGearMessage,
  readCurveCertificate,
  readCurvePublicKeys,
  type NetGearMessage,
  type NetGearPattern,
} from '../netgear/netgear-wire.js';
import { netGearAsyncReplyParts, netGearReplyParts } from '../netgear/netgear-reply.js';
import { ZapAuthenticator } from '../netgear/zap-authenticator.js';
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
}

const log = createLogger('netgear');

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
  readonly #pattern: NetGearPattern;
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
    if (this.#socket || this.closed) return;
    this.setState('starting');
    const socket =
      this.#pattern === 0
        ? new Pair()
        : this.#pattern === 1
          ? new Reply()
          : this.#pattern === 2
            ? new Subscriber()
            : new Pull();
    socket.linger = 0;
    socket.maxMessageSize = (this.#options.maxFrameBytes ?? 64 * 1024 * 1024) + 64 * 1024;
    if (socket instanceof Subscriber) {
      socket.receiveHighWaterMark = 1;
      socket.subscribe();
    }
    const secureMode = this.#options.secureMode ?? 0;
    if (secureMode > 0 && this.#options.keysDir) {
      const server = await readCurveCertificate(join(this.#options.keysDir, 'private_keys', 'server.key_secret'));
      socket.curveServer = true;
      socket.curvePublicKey = server.publicKey;
      socket.curveSecretKey = server.secretKey ?? '';
      if (secureMode === 2) {
        const keys = await readCurvePublicKeys(join(this.#options.keysDir, 'public_keys'));
        const domain = `framewire-netgear-${this.id}-${process.pid}`;
        socket.zapDomain = domain;
        this.#removeZapRule = await ZapAuthenticator.acquire(domain, keys);
      } else this.#removeZapRule = await ZapAuthenticator.acquire();
    }
    this.#socket = socket;
    try {
      for (const endpoint of this.endpoints) await socket.bind(endpoint);
    } catch (error) {
      this.#socket = undefined;
      socket.close();
      throw new FramewireError(
        'FW_ERR_LISTEN_FAILED',
        `netgear source "${this.id}": cannot bind ${this.endpoints.join(', ')} (${(error as Error).message})`,
        { cause: error, fatal: true, stage: 'listen' },
      );
    }
    log.info(
      `netgear source "${this.id}" listening on ${this.endpoints.join(', ')} (pattern ${this.#pattern}${this.#options.async ? ', async' : ''})`,
    );
    void this.#receive(socket);
  }

  /** Closes the socket. */
  protected release(): void {
    this.#socket?.close();
    this.#removeZapRule?.();
    this.#socket = undefined;
  }

  async #receive(socket: Socket): Promise<void> {
    const limits = { maxFrameBytes: this.#options.maxFrameBytes ?? 64 * 1024 * 1024, maxDimension: 8192 };
    const replies = this.#pattern === 0 || this.#pattern === 1;
    try {
      for await (const parts of socket as unknown as AsyncIterable<Buffer[]>) {
        let parsed: NetGearMessage | undefined;
        try {
          parsed = this.#options.async ? parseNetGearAsyncMessage(parts, limits) : parseNetGearMessage(parts, limits);
          if (this.#options.multiServer && parsed.port !== String(this.port))
            throw this.error(
              'FW_ERR_PROTOCOL_VIOLATION',
              `multi-server mode: a message on port ${this.port} claims port ${JSON.stringify(parsed.port ?? null)}`,
            );
        } catch (error) {
          parsed = undefined;
          this.countDrop();
          const failure =
            error instanceof FramewireError ? error : this.error('FW_ERR_PROTOCOL_VIOLATION', String(error), error);
          log.warn(`netgear source "${this.id}": dropped a message: ${failure.message}`);
          this.reportError(failure);
        }
        if (replies && (socket instanceof Reply || socket instanceof Pair)) await socket.send(this.#reply(parsed));
        if (parsed?.type === 'terminate') {
          log.info(`netgear source "${this.id}": the sender${parsed.port ? ` on port ${parsed.port}` : ''} terminated`);
          this.setState('starting');
        } else if (parsed) {
          this.#lastMessage = parsed.message;
          this.emitFrame(parsed.frame);
        }
      }
    } catch (error) {
      if (this.closed) return;
      this.reportError(
        this.error('FW_ERR_CONNECTION_FAILED', `receiving failed: ${(error as Error).message}`, error, true),
      );
    }
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
