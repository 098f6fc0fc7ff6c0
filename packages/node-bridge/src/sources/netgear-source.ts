import { join } from 'node:path';
import { Pair, Pull, Reply, Subscriber, type Socket } from 'zeromq';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  packMsgpack,
  parseNetGearAsyncMessage,
  parseNetGearMessage,
  pythonTypeName,
  readCurveCertificate,
  readCurvePublicKeys,
  type NetGearMessage,
  type NetGearPattern,
} from '../netgear/netgear-wire.js';
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
  /** Multi-server mode: bind all these ports, one per sender (patterns 1 and 2). Default: just `port`. */
  ports?: number[];
  /** `tcp` or `ipc` (then `address` is the socket path). Default: `tcp`. */
  protocol?: 'tcp' | 'ipc';
  /** 0 PAIR, 1 REQ/REP, 2 PUB/SUB (3 PUSH/PULL with `async`). Default: 0. */
  pattern?: NetGearPattern;
  /** Speak NetGear_Async's msgpack format instead of NetGear's JSON one. Default: false. */
  async?: boolean;
  /** Bidirectional mode: answer each frame with `returnData(message, port)` (patterns 0 and 1). Default: false. */
  bidirectional?: boolean;
  /** Computes the reply to a sender's `message` in bidirectional mode (any JSON value). Default: replies null. */
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
    const ports = options.ports ?? [options.port ?? 5555];
    for (const port of ports)
      assertOption(Number.isInteger(port) && port > 0 && port < 65536, `port must be in 1..65535; got ${port}`);
    assertOption(
      ports.length === 1 || pattern === 1 || pattern === 2,
      'multi-server mode (ports) needs pattern 1 or 2',
    );
    const secureMode = options.secureMode ?? 0;
    assertOption([0, 1, 2].includes(secureMode), 'secureMode must be 0, 1 or 2');
    assertOption(secureMode === 0 || typeof options.keysDir === 'string', 'keysDir is required with secureMode');
    assertOption(!(secureMode && options.async), 'NetGear_Async has no secure mode');
    const protocol = options.protocol ?? 'tcp';
    assertOption(['tcp', 'ipc'].includes(protocol), 'protocol must be tcp or ipc');
    const address = options.address ?? '127.0.0.1';
    this.endpoints = protocol === 'ipc' ? [`ipc://${address}`] : ports.map((port) => `tcp://${address}:${port}`);
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
        } catch (error) {
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

  #reply(parsed: NetGearMessage | undefined): Buffer | string {
    const bidirectional = this.#options.bidirectional ?? false;
    if (this.#options.async) {
      if (parsed?.type === 'terminate')
        return packMsgpack({ terminated: 'Client-`' + this.id + '` successfully terminated!' });
      if (bidirectional && parsed?.type === 'frame') {
        const data = this.#options.returnData?.(parsed.message, parsed.port) ?? null;
        return packMsgpack({ return_type: pythonTypeName(data), return_data: data });
      }
      return Buffer.from('Data received on framewire');
    }
    if (bidirectional && parsed?.type === 'frame') {
      const data = this.#options.returnData?.(parsed.message, parsed.port) ?? null;
      return JSON.stringify({ return_type: pythonTypeName(data), data });
    }
    return `Data received on device: ${this.id} !`;
  }
}

/**
 * Makes a {@link NetGearSource} from a spec such as `netgear://*:5555?pattern=1`, with query parameters
 * `pattern`, `async`, `bidirectional`, `secure` (0–2), `keys` (folder) and `ports` (comma-separated, multi-server).
 * Throws `FW_ERR_INVALID_OPTION` on a malformed spec.
 */
export function netGearSourceFromSpec(spec: string, id?: string): NetGearSource {
  const match = /^netgear:\/\/([^:/?]+)(?::(\d+))?\/?(?:\?(.*))?$/.exec(spec);
  assertOption(match, `--source netgear must look like netgear://*:5555?pattern=1; got ${spec}`);
  const query = new URLSearchParams(match[3] ?? '');
  const flag = (name: string): boolean => ['1', 'true', 'yes'].includes(query.get(name) ?? '');
  const ports = query.get('ports')?.split(',').map(Number);
  const secureMode = Number(query.get('secure') ?? 0);
  return new NetGearSource({
    ...(id ? { id } : {}),
    address: match[1] ?? '127.0.0.1',
    ...(match[2] ? { port: Number(match[2]) } : {}),
    ...(ports ? { ports } : {}),
    pattern: Number(query.get('pattern') ?? 0) as NetGearPattern,
    async: flag('async'),
    bidirectional: flag('bidirectional'),
    secureMode: secureMode as 0 | 1 | 2,
    ...(query.get('keys') ? { keysDir: query.get('keys') ?? '' } : {}),
  });
}
