import { Server, Socket } from 'node:net';
import type { FramePool, PooledBuffer } from '../media/frame-pool.js';
import { ZmtpFrameReader, type ZmtpFrameHandler } from './zmtp-frame-reader.js';
import {
  PEER_TYPES,
  parseZmtpCommand,
  parseZmtpGreeting,
  parseZmtpProperties,
  zmtpCommand,
  zmtpError,
  zmtpGreeting,
  zmtpMessage,
  zmtpReady,
  type ZmtpSocketType,
} from './zmtp-wire.js';

/** Parts a message may have (NetGear sends 2, a REQ envelope adds 1); more is a protocol violation. */
const MAX_PARTS = 16;

/** A message as {@link ZmtpReceiver} delivers it. Its buffers are valid only during the `onMessage` call. */
export interface ZmtpIncoming {
  /** The parts (for REP: without the request envelope). */
  parts: Buffer[];
  /** The buffer lease of each large part (same order as `parts`; `undefined` for small ones). */
  leases: (PooledBuffer | undefined)[];
  /** Set when the message was skipped because a part was over the limit: that part's size. */
  oversizeBytes?: number;
  /** Set when the message breaks the socket type's rules (too many parts, no REQ envelope). */
  problem?: string;
  /** Answers the sender (PAIR and REP only; REP: exactly once). */
  reply?: (parts: readonly Buffer[]) => void;
}

/** Options of {@link ZmtpReceiver}. */
export interface ZmtpReceiverOptions {
  /** The socket type spoken. */
  type: ZmtpSocketType;
  /** Parts over this many bytes are skipped (the message is delivered with `oversizeBytes`). */
  maxPartBytes: number;
  /** Lends the buffers large parts are read into. */
  pool: FramePool;
  /** Every complete message, synchronously; its leases are released when this returns. */
  onMessage: (message: ZmtpIncoming) => void;
  /** A peer that was refused or broke the protocol (the connection is closed); the same reason at most every 10 s. */
  onPeerError: (reason: string) => void;
}

/**
 * A receiving ZeroMQ socket (PAIR, REP, SUB or PULL) over TCP with NULL security, speaking ZMTP 3.0 to libzmq,
 * pyzmq and zeromq.js peers. Unlike a zeromq.js socket, it reads every large part straight into a pooled buffer:
 * no copy, no allocation and no garbage-collector work per frame. Several peers may connect; a PAIR socket keeps
 * only the newest (a NetGear sender that reconnects after a timeout replaces its old connection).
 */
export class ZmtpReceiver {
  readonly #options: ZmtpReceiverOptions;
  readonly #server = new Server({ pauseOnConnect: true, noDelay: true });
  readonly #connections = new Set<ZmtpConnection>();
  /** When each peer error was last reported: a peer that reconnects every 100 ms is reported every 10 s. */
  readonly #reported = new Map<string, number>();

  /** Checks nothing yet: `bind()` listens. */
  constructor(options: ZmtpReceiverOptions) {
    this.#options = options;
    this.#server.on('connection', (socket) => this.#accept(socket));
  }

  /** The port bound (useful when binding port 0). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Listens on `host` (`*` for every interface) and `port`; rejects with the system error (e.g. EADDRINUSE). */
  async bind(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: host === '*' ? undefined : host, port, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const connection of this.#connections) connection.close();
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #peerError(reason: string): void {
    const now = Date.now();
    if (now - (this.#reported.get(reason) ?? -Infinity) < 10_000) return;
    if (this.#reported.size > 100) this.#reported.clear();
    this.#reported.set(reason, now);
    this.#options.onPeerError(reason);
  }

  #accept(socket: Socket): void {
    const options = { ...this.#options, onPeerError: (reason: string) => this.#peerError(reason) };
    const connection = new ZmtpConnection(socket, options, {
      ready: (ready) => {
        if (this.#options.type !== 'PAIR') return;
        for (const other of this.#connections) if (other !== ready) other.close();
      },
      closed: (closed) => this.#connections.delete(closed),
    });
    this.#connections.add(connection);
  }
}

/** One peer's connection: greeting, READY handshake, then messages. */
class ZmtpConnection implements ZmtpFrameHandler {
  readonly #socket: Socket;
  readonly #options: ZmtpReceiverOptions;
  readonly #reader: ZmtpFrameReader;
  readonly #lifecycle: { ready(connection: ZmtpConnection): void; closed(connection: ZmtpConnection): void };
  #ready = false;
  #closed = false;
  #parts: Buffer[] = [];
  #leases: (PooledBuffer | undefined)[] = [];
  #oversizeBytes: number | undefined;
  #partCount = 0;

  constructor(
    socket: Socket,
    options: ZmtpReceiverOptions,
    lifecycle: { ready(connection: ZmtpConnection): void; closed(connection: ZmtpConnection): void },
  ) {
    this.#options = options;
    this.#lifecycle = lifecycle;
    this.#reader = new ZmtpFrameReader(this, (size) => options.pool.acquire(size), options.maxPartBytes);
    this.#socket = readIntoReader(socket, this.#reader);
    this.#socket.on('error', () => this.#hungUp());
    this.#socket.on('close', () => this.#hungUp());
    this.#socket.write(zmtpGreeting());
  }

  /** Closes the connection (idempotent); a part being received is let go. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.stop();
    this.#dropMessage();
    this.#socket.destroy();
    this.#lifecycle.closed(this);
  }

  #hungUp(): void {
    // libzmq hangs up halfway through the greeting when the mechanisms differ (a CURVE sender, a NULL receiver).
    if (!this.#closed && this.#reader.midGreeting)
      this.#options.onPeerError('the peer hung up during the greeting (does it use a secure mode, CURVE?)');
    this.close();
  }

  /** @inheritdoc */
  greeting(greeting: Buffer): void {
    const parsed = parseZmtpGreeting(greeting);
    if (!parsed.ok) return this.#refuse(parsed.reason, false);
    this.#socket.write(zmtpReady(this.#options.type));
  }

  /** @inheritdoc */
  command(frame: Buffer): void {
    const command = parseZmtpCommand(frame);
    if (!command) return this.#refuse('a malformed command', true);
    if (!this.#ready) {
      if (command.name !== 'READY') return this.#refuse(`expected READY, got ${command.name}`, true);
      const peerType = parseZmtpProperties(command.body)?.get('socket-type');
      const accepted: readonly string[] = PEER_TYPES[this.#options.type];
      if (!peerType || !accepted.includes(peerType))
        return this.#refuse(`a ${peerType ?? 'nameless'} socket cannot talk to a ${this.#options.type} socket`, true);
      this.#ready = true;
      // ZMTP 3.0 subscriptions are messages: 0x01 then the topic prefix (empty: everything).
      if (this.#options.type === 'SUB') this.#socket.write(zmtpMessage([Buffer.from([1])]));
      this.#lifecycle.ready(this);
    } else if (command.name === 'PING') {
      // PING: a 2-byte TTL, then up to 16 bytes of context that PONG echoes.
      this.#socket.write(zmtpCommand('PONG', command.body.subarray(2, 18)));
    } else if (command.name === 'ERROR') {
      this.#refuse(`the peer reported an error: ${command.body.subarray(1).toString('latin1')}`, false);
    }
  }

  /** @inheritdoc */
  part(data: Buffer, more: boolean, lease: PooledBuffer | undefined): void {
    if (!this.#ready) {
      lease?.release();
      return this.#refuse('a message before the handshake', true);
    }
    if (++this.#partCount > MAX_PARTS || this.#oversizeBytes !== undefined) lease?.release();
    else {
      this.#parts.push(data);
      this.#leases.push(lease);
    }
    if (!more) this.#deliver();
  }

  /** @inheritdoc */
  oversizePart(size: number, more: boolean): void {
    this.#oversizeBytes ??= size;
    this.#partCount++;
    if (!more) this.#deliver();
  }

  /** @inheritdoc */
  violation(reason: string): void {
    this.#refuse(reason, true);
  }

  #deliver(): void {
    const message: ZmtpIncoming = { parts: this.#parts, leases: this.#leases };
    // REP: the request's envelope (up to the empty delimiter) goes back with the reply, even for a bad request.
    let envelope: Buffer[] = [];
    if (this.#options.type === 'REP') {
      const delimiter = this.#parts.findIndex((part) => part.length === 0);
      if (delimiter < 0) message.problem = 'a request without its envelope';
      else {
        envelope = this.#parts.slice(0, delimiter + 1);
        message.parts = message.parts.slice(delimiter + 1);
        message.leases = message.leases.slice(delimiter + 1);
      }
    }
    if (this.#oversizeBytes !== undefined) {
      message.oversizeBytes = this.#oversizeBytes;
      delete message.problem;
    } else if (this.#partCount > MAX_PARTS) message.problem = `a message of ${this.#partCount} parts`;
    if (message.problem !== undefined || message.oversizeBytes !== undefined) message.parts = [];
    const replies = this.#options.type === 'PAIR' || (this.#options.type === 'REP' && envelope.length > 0);
    if (replies) {
      let answered = false;
      message.reply = (parts) => {
        if (answered || this.#closed) return;
        answered = this.#options.type === 'REP';
        this.#socket.write(zmtpMessage([...envelope, ...parts]));
      };
    }
    try {
      this.#options.onMessage(message);
    } finally {
      this.#dropMessage();
    }
  }

  #dropMessage(): void {
    for (const lease of this.#leases) lease?.release();
    this.#parts = [];
    this.#leases = [];
    this.#oversizeBytes = undefined;
    this.#partCount = 0;
  }

  #refuse(reason: string, tellPeer: boolean): void {
    if (this.#closed) return;
    this.#options.onPeerError(reason);
    // The ERROR command goes out before the connection ends; a peer that does not close gets cut off.
    const socket = this.#socket;
    if (tellPeer) socket.end(zmtpError(reason));
    else socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
    this.#closed = true;
    this.#reader.stop();
    this.#dropMessage();
    this.#lifecycle.closed(this);
  }
}

/**
 * Has `socket`'s reads land in `reader`'s buffers. Node lets a socket read into caller-supplied memory (`onread`)
 * only when it is created, and a server creates its sockets itself, so the accepted (paused) socket's handle moves to
 * a new socket created with `onread`. Where a Node version does not expose the handle, the bytes are copied from
 * ordinary `data` chunks instead (slower, same result).
 */
function readIntoReader(socket: Socket, reader: ZmtpFrameReader): Socket {
  const holder = socket as unknown as { _handle?: object | null };
  const handle = holder._handle;
  if (!handle) {
    socket.on('data', (chunk: Buffer) => reader.feed(chunk));
    socket.resume();
    return socket;
  }
  holder._handle = null;
  socket.destroy();
  const options = {
    handle,
    readable: true,
    writable: true,
    onread: { buffer: () => reader.target(), callback: (count: number) => reader.advance(count) },
  };
  const adopted = new Socket(options);
  adopted.setNoDelay(true);
  return adopted;
}
