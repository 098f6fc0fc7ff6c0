import { fileURLToPath } from 'node:url';
import { FramewireError, assertOption, createLogger, getLogLevel, isErrorCode, type ErrorCode } from '@framewire/core';
import type { BridgeServer } from '../bridge-server.js';
import { isRawFrame } from '../media/source-frame.js';
import { OpusPcmDecoder, type PcmChunk } from '../pipeline/opus-pcm-decoder.js';
import { SupervisedProcess } from '../process/supervised-process.js';
import { RoomPeerSource } from '../sources/room-peer-source.js';
import { RoomSource } from '../sources/room-source.js';
import { encodeRoomIpcJson, type RoomIpcFromWorker, type RoomIpcToWorker } from './room-peer-ipc.js';
import { IpcMessageReader, encodeIpcFrameHeader, encodeIpcPcmHeader, type IpcFrame } from '../webrtc/webrtc-ipc.js';

/** Options of {@link BridgeRoomPeer.open}. */
export interface BridgeRoomPeerOptions {
  /** `ws://` or `wss://` URL of the signaling server's `/ws` endpoint. Required. */
  url: string;
  /** The room to join (the token's room). Required. */
  room: string;
  /**
   * A signaling token with role `publisher` (or `admin`), or a function returning a fresh one (called for every
   * join, including the joins after a worker restart). Required.
   */
  token: string | (() => string | Promise<string>);
  /**
   * Ids of the bridge sources to publish to the room as media tracks (VP8 from the shared I420 feed, and the
   * source's audio, when it has some, as an Opus track in the same media stream). Default: the first source that is
   * not a room source; `[]` publishes nothing.
   */
  publish?: string[];
  /** The bridge source that serves the newest publisher's video (it must be one of the bridge's sources). Default: none. */
  receive?: RoomSource;
  /**
   * Add one bridge source per remote publishing peer while it publishes: id `room-<label>` when the peer joined
   * with a `meta.label` that fits a source id and is free, else `room-<peer id>`. Default: true.
   */
  peerSources?: boolean;
  /** Keep only local ICE candidates with these addresses (e.g. `127.0.0.1`). Default: every candidate. */
  iceAddresses?: string[];
  /** JSON shown to the other peers (≤ 1 KiB). Default: `{ kind: 'framewire-bridge' }`. */
  meta?: Record<string, unknown>;
  /** How long the first join may take, in ms. Default: 30000. */
  joinTimeoutMs?: number;
  /** First restart delay of the worker after it died, in ms (doubling per failure in a row). Default: 500. */
  restartDelayMs?: number;
  /** Longest restart delay of the worker, in ms. Default: 10000. */
  maxRestartDelayMs?: number;
  /**
   * A worker whose event loop does not answer the bridge's liveness check for this long is killed and restarted
   * (a hang of the native library), in ms. Default: 10000.
   */
  livenessTimeoutMs?: number;
  /** Node executable that runs the worker. Default: the bridge's own (`process.execPath`). */
  nodePath?: string;
}

/** Counters of a {@link BridgeRoomPeer}, reported in the bridge's `/metrics` as output `room`. */
export interface BridgeRoomPeerStats {
  /** Peers with an open connection to the bridge's peer. */
  clients: number;
  /** Frames of published sources handed to the worker (which encodes them once for every peer). */
  framesSent: number;
  /** Frames of published sources skipped because the worker was behind or not joined. */
  framesDropped: number;
  /** Bytes of those frames (raw I420 and framing) handed to the worker. */
  bytesSent: number;
  /** 10 ms chunks of published sources' audio (decoded to PCM while a peer is connected) handed to the worker. */
  audioChunksSent: number;
  /** Decoded frames received from remote peers. */
  framesReceived: number;
  /** Bytes of those frames (raw I420). */
  bytesReceived: number;
  /** Restarts of the worker process after it died. */
  workerRestarts: number;
}

const log = createLogger('room');
/** A code from the worker, or `FW_ERR_SIGNALING_FAILED` when it is not a framewire error code. */
const codeOf = (code: string): ErrorCode => (isErrorCode(code) ? code : 'FW_ERR_SIGNALING_FAILED');
const WORKER_PATH = fileURLToPath(new URL('./room-peer-worker.js', import.meta.url));

/**
 * The bridge as a peer of a framewire room (see `@framewire/signaling`): it publishes bridge sources as media
 * tracks, encoded from the bridge's shared I420 feed (so each source is still decoded once), and serves the
 * remote peers' video as bridge sources: one {@link RoomPeerSource} per publishing peer (added while it
 * publishes, ended and removed when it leaves) and, with `receive`, a {@link RoomSource} that follows the newest
 * publisher.
 *
 * The peer and every `@roamhq/wrtc` object live in a worker process (`room-peer-worker.js`), because the native
 * library can crash: the bridge feeds it raw I420 frames over a pipe and gets the peers' frames back. When the
 * worker dies, the bridge restarts it with backoff and it joins the room again (with a new peer id); meanwhile
 * the room sources report the failure (`restarting`, `lastError`) and the peer sources end.
 */
export class BridgeRoomPeer {
  /** Output labels in the bridge's `/metrics`. */
  readonly metricsLabels = { source: '*', output: 'room' };
  readonly #bridge: BridgeServer;
  readonly #options: BridgeRoomPeerOptions;
  readonly #publish: string[];
  readonly #worker: SupervisedProcess;
  readonly #reader: IpcMessageReader;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #peerSources = new Map<string, RoomPeerSource>();
  #peerId: string | undefined;
  #joins = 0;
  /** The worker told why it exits (a refused join, a fatal room error): its exit is not reported again. */
  #exitReported = false;
  #connected = 0;
  #firstJoin: { resolve: () => void; reject: (error: FramewireError) => void } | undefined;
  readonly #stats = {
    framesSent: 0,
    framesDropped: 0,
    bytesSent: 0,
    audioChunksSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
  };
  /** The published sources' audio, decoded to PCM for wrtc only while a peer is connected. */
  readonly #audioDecoders = new Map<string, OpusPcmDecoder>();
  #closing: Promise<void> | undefined;
  #lastAnswerMs = Date.now();
  #nextPing = 1;
  #watchdog: NodeJS.Timeout | undefined;

  private constructor(bridge: BridgeServer, options: BridgeRoomPeerOptions, publish: string[]) {
    this.#bridge = bridge;
    this.#options = options;
    this.#publish = publish;
    this.#reader = new IpcMessageReader(
      (message) => this.#onMessage(message as RoomIpcFromWorker),
      (frame) => this.#onPeerFrame(frame),
    );
    this.#worker = new SupervisedProcess({
      name: 'room peer worker',
      command: options.nodePath ?? process.execPath,
      args: [WORKER_PATH],
      stdin: true,
      restartDelayMs: options.restartDelayMs ?? 500,
      maxRestartDelayMs: options.maxRestartDelayMs ?? 10_000,
    });
    this.#worker.on('spawn', () => {
      this.#reader.reset();
      this.#lastAnswerMs = Date.now();
    });
    this.#worker.on('stdout', ({ chunk }) => {
      try {
        this.#reader.push(chunk);
      } catch (error) {
        log.warn(`bad message from the room peer worker: ${(error as Error).message}; restarting it`);
        this.#worker.kill();
      }
    });
    this.#worker.on('error', ({ error }) => this.#onWorkerExit(error));
    // The worker's log records (already filtered by the bridge's level) join the bridge's log.
    this.#worker.on('stderr', ({ chunk }) => process.stderr.write(chunk));
  }

  /** Pings the worker and kills it when its event loop has not answered within `livenessTimeoutMs`. */
  #startWatchdog(timeoutMs: number): void {
    this.#watchdog = setInterval(() => {
      if (!this.#worker.running) return;
      if (Date.now() - this.#lastAnswerMs > timeoutMs) {
        log.warn(`room peer worker ${this.#worker.pid ?? '?'}: no answer for ${timeoutMs} ms; restarting it`);
        this.#lastAnswerMs = Date.now();
        this.#worker.kill('SIGKILL');
        return;
      }
      this.#send({ type: 'ping', id: this.#nextPing++ });
    }, timeoutMs / 4);
    this.#watchdog.unref();
  }

  /**
   * Starts the worker, joins the room and starts publishing and receiving; the bridge closes the peer when it
   * closes. Rejects with `FW_ERR_INVALID_OPTION`, `FW_ERR_UNAUTHORIZED` (the signaling server refused the token),
   * `FW_ERR_SIGNALING_FAILED` (it cannot be reached), `FW_ERR_TIMEOUT` (no join within `joinTimeoutMs`) or
   * `FW_ERR_PROCESS_FAILED` (the worker died before it joined).
   */
  static async open(bridge: BridgeServer, options: BridgeRoomPeerOptions): Promise<BridgeRoomPeer> {
    assertOption(
      typeof options.url === 'string' && /^wss?:\/\/./.test(options.url),
      `room url must be a ws:// or wss:// URL; got ${options.url}`,
    );
    assertOption(typeof options.room === 'string' && options.room !== '', 'room must be a room name');
    assertOption(
      (typeof options.token === 'string' && options.token !== '') || typeof options.token === 'function',
      'room token must be a signaling token (FRAMEWIRE_ROOM_TOKEN or --room-token)',
    );
    const receive = options.receive;
    assertOption(
      receive === undefined || bridge.sources.includes(receive),
      'room receive must be one of the bridge sources',
    );
    const isRoom = (s: unknown): boolean => s instanceof RoomSource || s instanceof RoomPeerSource;
    const publish =
      options.publish ??
      bridge.sources
        .filter((s) => !isRoom(s))
        .map((s) => s.id)
        .slice(0, 1);
    for (const id of publish) {
      const source = bridge.sources.find((s) => s.id === id);
      assertOption(source && !isRoom(source), `room publish: no bridge source to publish with id ${id}`);
    }
    const addresses = options.iceAddresses ?? [];
    assertOption(
      Array.isArray(addresses) && addresses.every((a) => typeof a === 'string' && a !== ''),
      'room iceAddresses must be an array of IP addresses',
    );
    const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    assertOption(joinTimeoutMs > 0, `room joinTimeoutMs must be > 0; got ${joinTimeoutMs}`);
    const livenessTimeoutMs = options.livenessTimeoutMs ?? 10_000;
    assertOption(livenessTimeoutMs >= 100, `room livenessTimeoutMs must be >= 100; got ${livenessTimeoutMs}`);
    const member = new BridgeRoomPeer(bridge, { ...options, iceAddresses: addresses }, publish);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        member.#firstJoin = { resolve, reject };
        timer = setTimeout(
          () => reject(new FramewireError('FW_ERR_TIMEOUT', `no answer within ${joinTimeoutMs} ms`)),
          joinTimeoutMs,
        );
        member.#worker.start();
        member.#startWatchdog(livenessTimeoutMs);
      });
    } catch (error) {
      await member.close();
      const code: ErrorCode = error instanceof FramewireError ? error.code : 'FW_ERR_SIGNALING_FAILED';
      const why =
        code === 'FW_ERR_UNAUTHORIZED' || code === 'FW_ERR_FORBIDDEN'
          ? 'refused the room token'
          : 'could not be joined';
      throw new FramewireError(code, `room "${options.room}" at ${options.url} ${why}: ${(error as Error).message}`, {
        cause: error,
        fatal: true,
        stage: 'room',
      });
    } finally {
      clearTimeout(timer);
      member.#firstJoin = undefined;
    }
    member.#subscribe();
    bridge.attach(member);
    log.info(`joined room "${options.room}" as ${member.peerId ?? '?'}`, { publish, receive: receive?.id });
    return member;
  }
  /**
   * The same as {@link BridgeRoomPeer.open}.
   * @deprecated Use `BridgeRoomPeer.open()` (one construction verb: `open` for everything that connects; docs/guides/names.md).
   * Kept for one release.
   */
  static join(bridge: BridgeServer, options: BridgeRoomPeerOptions): Promise<BridgeRoomPeer> {
    return BridgeRoomPeer.open(bridge, options);
  }

  /** The bridge's peer id in the room; `undefined` while the worker restarts (each join has a new id). */
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /** The worker's process id (for diagnostics and tests); `undefined` while it restarts. */
  get workerPid(): number | undefined {
    return this.#worker.pid;
  }

  /** The bridge sources of the remote peers that publish now (by peer id). */
  get peerSources(): ReadonlyMap<string, RoomPeerSource> {
    return this.#peerSources;
  }

  /** Frames and bytes in and out, connected peers and worker restarts (output `room` in `/metrics`). */
  get stats(): BridgeRoomPeerStats {
    return { clients: this.#connected, ...this.#stats, workerRestarts: this.#worker.restarts };
  }

  /** Kills the worker (SIGKILL): it restarts and joins again. For tests and recovery. */
  killWorker(): void {
    this.#worker.kill('SIGKILL');
  }

  /** Stops publishing, leaves the room (the worker exits) and removes the peer sources. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#watchdog);
      for (const off of this.#unsubscribe.splice(0)) off();
      await Promise.all([...this.#audioDecoders.values()].map((decoder) => decoder.stop()));
      this.#send({ type: 'leave' });
      await this.#worker.close();
      await this.#endPeerSources('the bridge left the room');
    })();
    return this.#closing;
  }

  #subscribe(): void {
    for (const id of this.#publish) {
      const feed = this.#bridge.feed(id, 'I420');
      this.#unsubscribe.push(feed.subscribe((frame) => this.#forward(id, frame)));
      const source = this.#bridge.sources.find((s) => s.id === id);
      if (source?.audio)
        this.#audioDecoders.set(id, new OpusPcmDecoder(source, (chunk) => this.#forwardPcm(id, chunk)));
    }
    this.#followConnected();
  }

  /** Decodes the published audio while a peer is connected (wrtc needs PCM), and stops the decoders otherwise. */
  #followConnected(): void {
    for (const decoder of this.#audioDecoders.values()) {
      if (this.#connected > 0 && !this.#closing) decoder.start();
      else void decoder.stop();
    }
  }

  #forwardPcm(id: string, chunk: PcmChunk): void {
    if (this.#peerId === undefined) return;
    const header = encodeIpcPcmHeader({ id, captureTimeMs: chunk.captureTimeMs, data: chunk.samples });
    if (!this.#worker.write(header)) return;
    this.#worker.write(new Uint8Array(chunk.samples.buffer), true);
    this.#stats.audioChunksSent++;
  }

  #forward(id: string, frame: Parameters<typeof isRawFrame>[0]): void {
    if (!isRawFrame(frame) || frame.format !== 'I420') return;
    const header = encodeIpcFrameHeader({ ...frame, id });
    // The header goes only when the pipe has room; then the pixels must follow it.
    if (this.#peerId === undefined || !this.#worker.write(header)) {
      this.#stats.framesDropped++;
      return;
    }
    this.#worker.write(frame.data, true);
    this.#stats.framesSent++;
    this.#stats.bytesSent += header.length + frame.data.length;
  }

  #send(message: RoomIpcToWorker): void {
    this.#worker.write(encodeRoomIpcJson(message), true);
  }

  #sendJoin(): void {
    const o = this.#options;
    this.#send({
      type: 'join',
      url: o.url,
      room: o.room,
      meta: o.meta ?? { kind: 'framewire-bridge' },
      iceAddresses: o.iceAddresses ?? [],
      publish: this.#publish,
      publishAudio: this.#publish.filter((id) => this.#bridge.sources.find((s) => s.id === id)?.audio),
      logLevel: getLogLevel(),
    });
  }

  /** Answers the worker's token request with the configured token or a fresh one from the token function. */
  async #sendToken(requestId: number): Promise<void> {
    const { token } = this.#options;
    try {
      this.#send({ type: 'token', requestId, token: typeof token === 'function' ? await token() : token });
    } catch (error) {
      this.#send({ type: 'token', requestId, error: `the room token function failed: ${(error as Error).message}` });
    }
  }

  #onMessage(message: RoomIpcFromWorker): void {
    this.#lastAnswerMs = Date.now();
    switch (message.type) {
      case 'ready':
        this.#sendJoin();
        break;
      case 'pong':
        break;
      case 'token-request':
        void this.#sendToken(message.requestId);
        break;
      case 'joined':
        this.#peerId = message.peerId;
        this.#joins++;
        if (this.#joins > 1) log.info(`joined room "${this.#options.room}" again as ${message.peerId}`);
        this.#options.receive?.waitForPublisher();
        this.#firstJoin?.resolve();
        break;
      case 'join-failed':
        // The worker exits after this; the supervisor starts a new one after its backoff.
        this.#exitReported = true;
        this.#fail(new FramewireError(codeOf(message.code), message.message, { stage: 'room' }));
        break;
      case 'track':
        void this.#addPeerSource(message.peerId, message.meta);
        break;
      case 'peer-left':
        this.#options.receive?.removePeer(message.peerId);
        void this.#endPeerSource(message.peerId, 'the peer left the room');
        break;
      case 'peers':
        this.#connected = message.connected;
        this.#followConnected();
        break;
      case 'error': {
        const error = new FramewireError(codeOf(message.code), message.message, {
          fatal: false,
          stage: 'room',
        });
        log.warn(`room "${this.#options.room}": ${error.code}: ${error.message}`);
        if (message.fatal) {
          // The worker exits after a fatal room error: this error, not the exit, is the room's lastError.
          this.#exitReported = true;
          this.#options.receive?.fail(error);
        }
        break;
      }
    }
  }

  #onPeerFrame(frame: IpcFrame): void {
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += frame.data.length;
    this.#options.receive?.pushPeerFrame(frame.id, frame, frame.captureTimeMs);
    this.#peerSources.get(frame.id)?.pushFrame(frame, frame.captureTimeMs);
  }

  /** A failure before the first join rejects it; later ones are the room source's `lastError`. */
  #fail(error: FramewireError): void {
    if (this.#firstJoin) {
      this.#firstJoin.reject(error);
      return;
    }
    log.warn(`room "${this.#options.room}": ${error.code}: ${error.message}`);
    this.#options.receive?.fail(error);
  }

  #onWorkerExit(error: FramewireError): void {
    this.#peerId = undefined;
    this.#connected = 0;
    this.#followConnected();
    if (!this.#exitReported) this.#fail(error);
    this.#exitReported = false;
    void this.#endPeerSources('the room peer worker restarts');
  }

  async #addPeerSource(peerId: string, meta: Record<string, unknown> | undefined): Promise<void> {
    if (this.#options.peerSources === false || this.#peerSources.has(peerId) || this.#closing) return;
    const label = meta?.['label'];
    const taken = (id: string): boolean => this.#bridge.sources.some((s) => s.id === id);
    const id =
      typeof label === 'string' && /^[\w.-]{1,58}$/.test(label) && !taken(`room-${label}`)
        ? `room-${label}`
        : `room-${peerId.replace(/[^\w.-]/g, '').slice(0, 58)}`;
    if (taken(id)) return;
    const source = new RoomPeerSource(id, peerId);
    this.#peerSources.set(peerId, source);
    try {
      await this.#bridge.addSource(source);
    } catch (error) {
      this.#peerSources.delete(peerId);
      log.warn(`room peer ${peerId}: cannot add source ${id}: ${(error as Error).message}`);
    }
  }

  async #endPeerSource(peerId: string, reason: string): Promise<void> {
    const source = this.#peerSources.get(peerId);
    if (!source) return;
    this.#peerSources.delete(peerId);
    source.end();
    await this.#bridge.removeSource(source.id, reason);
  }

  async #endPeerSources(reason: string): Promise<void> {
    await Promise.all([...this.#peerSources.keys()].map((peerId) => this.#endPeerSource(peerId, reason)));
  }
}
