import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { FramewireError, assertOption, createLogger } from '@framewire/core';
import {
  assertTlsOptions,
  closeServer,
  formatPrometheus,
  listen,
  sendError,
  sendJson,
  type MetricFamily,
  type TlsOptions,
} from '@framewire/core/node';
import { StaticFiles } from './http/static-files.js';
import { WhipWhepEndpoints } from './outputs/whip-whep-endpoints.js';
import { MotionMonitor } from './motion/motion-monitor.js';
import { MOTION_DEFAULTS, type MotionOptions } from './motion/motion-options.js';
import { JanusOutput } from './outputs/janus-output.js';
import { MjpegOutput } from './outputs/mjpeg-output.js';
import type { OutputStats } from './outputs/output-stats.js';
import { WebSocketOutput, type WebSocketOutputOptions } from './outputs/websocket-output.js';
import { WebRtcOutput, type WebRtcOutputOptions } from './outputs/webrtc-output.js';
import type { FeedFormat } from './pipeline/ffmpeg-transcoder.js';
import { FrameFeed } from './pipeline/frame-feed.js';
import type { H264EncodeOptions } from './process/ffmpeg-args.js';
import { BRIDGE_PATHS, type BridgeHealth } from './protocol.js';
import { BridgeRecordings } from './recording/bridge-recordings.js';
import type { RecordingOptions } from './recording/recording-options.js';
import type { VideoSource } from './sources/video-source.js';
import { VERSION } from './version.js';

/** MJPEG output settings. */
export interface MjpegOptions {
  /** JPEG quality, ffmpeg's 2 (best) – 31 scale. Default: the source's own JPEG, or 5 when the bridge encodes. */
  quality?: number;
  /** Scale to this width in pixels, aspect kept. Default: the source's width. */
  width?: number;
}

/** Options of {@link BridgeServer.start}. */
export interface BridgeServerOptions {
  /** Interface to bind. Default: `127.0.0.1` (loopback only; use `0.0.0.0` to serve the LAN). */
  host?: string;
  /** TCP port for every HTTP and WebSocket output; 0 picks a free one. Default: 8090. */
  port?: number;
  /** The sources to serve, started by the server. Required (at least one). */
  sources: VideoSource[];
  /** MJPEG at `/video` and `/snapshot.jpg`; `false` turns it off. Default: on, source quality. */
  mjpeg?: boolean | MjpegOptions;
  /** H.264 over WebSocket at `/ws`; `false` turns it off. Default: on. */
  websocket?: boolean | WebSocketOutputOptions;
  /**
   * WebRTC without signaling: standard WHEP at `/whep` and `/sources/<id>/whep` (viewers) and WHIP at `/whip`
   * (video sent to the bridge), with the older aliases `/offer` and `/publish`; `true` for the defaults. Default: off.
   */
  webrtc?: boolean | WebRtcOutputOptions;
  /** How the bridge encodes H.264 for sources that are not H.264 already. Default: see {@link H264EncodeOptions}. */
  h264?: H264EncodeOptions;
  /**
   * Access token required on every endpoint but `/health`: `Authorization: Bearer <token>` or `?token=<token>`.
   * Default: none (open; fine on loopback, not on a LAN).
   */
  token?: string;
  /** Serve this directory at `/files/` (MIME types, CORS, ranges). Default: none. */
  staticDir?: string;
  /** `Access-Control-Allow-Origin` of every response. Default: `*`. */
  corsOrigin?: string;
  /** ffmpeg executable for the bridge's encoders. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /**
   * Record the sources to fragmented MP4 files (H.264 passed through, Opus audio), listed and served at
   * `/recordings`. Default: off. See {@link RecordingOptions}.
   */
  record?: RecordingOptions;
  /**
   * Certificate chain and key (PEM; files read with `readTlsFiles`): the bridge then serves https and wss on its one
   * port (every output: WebSocket, MJPEG, WHEP/WHIP, `/files/`), which browsers need to use WebCodecs from a page
   * that is not on `localhost`. `framewire-bridge tls` makes a local CA and a certificate. Default: none, plain http.
   */
  tls?: TlsOptions;
  /**
   * Motion detection on every source (or `motion.sources`), with events at `GET /events`, in `/metrics`, `/health`
   * and to `motion.webhookUrl`; see {@link MotionOptions}. Default: off.
   */
  motion?: MotionOptions;
}

/** Something the bridge closes on shutdown and may report in `/metrics`. */
interface Closable {
  close(): Promise<void> | void;
}

/** A WebSocket endpoint mounted on the bridge's port with {@link BridgeServer.mountWebSocket}. */
export interface UpgradeEndpoint {
  /** Takes over an HTTP upgrade the bridge has authorized. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the endpoint and its connections. */
  close(): Promise<void> | void;
}

const log = createLogger('bridge');
const sha = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The bridge's HTTP server. Every output shares one port: `GET /health` (open), `GET /metrics` (Prometheus),
 * and per source `/sources/<id>/video` (MJPEG), `/sources/<id>/snapshot.jpg`, `/sources/<id>/ws` (H.264 over
 * WebSocket), `/sources/<id>/offer` (WebRTC, with `webrtc`); the first source is also served at `/video`,
 * `/snapshot.jpg`, `/ws`, `/whep` and `/offer`, and `/whip` (alias `/publish`) takes video from browsers and other
 * bridges. With `token`, every
 * endpoint but `/health` answers 401 `FW_ERR_UNAUTHORIZED` to requests without it.
 */
export class BridgeServer {
  /** The bound port. */
  readonly port: number;
  /** The bound host. */
  readonly host: string;
  readonly #server: Server;
  readonly #sources: VideoSource[];
  readonly #options: BridgeServerOptions;
  readonly #feeds = new Map<string, FrameFeed>();
  readonly #mjpeg = new Map<string, MjpegOutput>();
  readonly #websocket = new Map<string, WebSocketOutput>();
  readonly #webrtc: WebRtcOutput | undefined;
  readonly #whipWhep: WhipWhepEndpoints | undefined;
  readonly #extra: Closable[] = [];
  readonly #upgrades = new Map<string, UpgradeEndpoint>();
  readonly #static: StaticFiles | undefined;
  readonly #recordings: BridgeRecordings | undefined;
  readonly #tokenHash: Buffer | undefined;
  readonly #motion: MotionMonitor | undefined;
  readonly #startedAtMs = Date.now();
  #unauthorized = 0;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, host: string, port: number, options: BridgeServerOptions) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.#options = options;
    this.#sources = [...options.sources];
    this.#tokenHash = options.token ? sha(options.token) : undefined;
    this.#static = options.staticDir ? new StaticFiles(options.staticDir, options.corsOrigin) : undefined;
    this.#recordings = options.record ? new BridgeRecordings(options.record, options.corsOrigin) : undefined;
    this.#motion = options.motion && this.#startMotion(options.motion);
    this.#triggerRecordingsOnMotion();
    for (const source of this.#sources) this.#addOutputs(source);
    const webrtc = options.webrtc ?? false;
    if (webrtc !== false) {
      const settings = webrtc === true ? {} : webrtc;
      this.#webrtc = new WebRtcOutput(this, settings);
      this.#whipWhep = new WhipWhepEndpoints(this.#webrtc, () => this.#sources.map((s) => s.id), {
        corsOrigin: options.corsOrigin ?? '*',
        ...(settings.iceServers ? { iceServers: settings.iceServers } : {}),
        ...(settings.maxOfferBytes === undefined ? {} : { maxBodyBytes: settings.maxOfferBytes }),
      });
    }
  }

  /** Validates the options, starts the sources and the HTTP server. Rejects with `FW_ERR_INVALID_OPTION` or `FW_ERR_LISTEN_FAILED`. */
  static async start(options: BridgeServerOptions): Promise<BridgeServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 8090;
    assertOption(
      Number.isInteger(port) && port >= 0 && port <= 65535,
      `port must be an integer in 0..65535; got ${port}`,
    );
    assertOption(Array.isArray(options.sources) && options.sources.length > 0, 'sources must hold at least one source');
    const ids = new Set(options.sources.map((s) => s.id));
    assertOption(ids.size === options.sources.length, 'source ids must be unique');
    assertOption(options.token === undefined || options.token.length >= 8, 'token must be at least 8 characters');
    if (options.tls !== undefined) assertTlsOptions(options.tls);
    const server: Server = options.tls
      ? createHttpsServer({ maxHeaderSize: 16 * 1024, cert: options.tls.cert, key: options.tls.key })
      : createServer({ maxHeaderSize: 16 * 1024 });
    server.maxHeadersCount = 100;
    const bound = await listen(server, host, port);
    let bridge: BridgeServer;
    try {
      bridge = new BridgeServer(server, host, bound, options);
    } catch (error) {
      await closeServer(server);
      throw error;
    }
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      bridge.#route(request, response).catch((error: unknown) => {
        log.error('request failed', { error });
        if (!response.headersSent) sendError(response, 500, 'FW_ERR_PROCESS_FAILED', 'internal error');
        else response.destroy();
      });
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      bridge.#upgrade(request, socket, head),
    );
    server.on('clientError', (_error, socket) => socket.destroy());
    try {
      for (const source of options.sources) await source.start();
      bridge.#recordings?.start(options.sources, (id) => bridge.feed(id, 'h264'));
    } catch (error) {
      await bridge.close();
      throw error;
    }
    log.info(`listening on ${options.tls ? 'https' : 'http'}://${host}:${bound}`, {
      sources: [...ids],
      outputs: bridge.#outputNames(),
    });
    return bridge;
  }

  /** The sources served. */
  get sources(): readonly VideoSource[] {
    return this.#sources;
  }

  /**
   * The shared feed of source `id` in `format` (created on first use; one per source and format, so each format is
   * encoded once). Outputs added from outside the bridge (NetGear senders, WebRTC) read frames through it.
   * Throws `FW_ERR_INVALID_OPTION` for an unknown source.
   */
  feed(id: string, format: FeedFormat, options: ConstructorParameters<typeof FrameFeed>[2] = {}): FrameFeed {
    const source = this.#sources.find((s) => s.id === id);
    assertOption(source, `no source with id ${id}`);
    const key = `${id}:${format}:${JSON.stringify(options)}`;
    let feed = this.#feeds.get(key);
    if (!feed) {
      const keyframeIntervalFrames = this.#options.h264?.keyframeIntervalFrames;
      feed = new FrameFeed(source, format, {
        ...(format === 'h264' && this.#options.h264 ? { h264: this.#options.h264 } : {}),
        ...(format === 'vp8' && keyframeIntervalFrames !== undefined ? { vp8: { keyframeIntervalFrames } } : {}),
        ...(this.#options.ffmpegPath ? { ffmpegPath: this.#options.ffmpegPath } : {}),
        ...options,
      });
      feed.onError(({ error }) => log.warn(error.message));
      this.#feeds.set(key, feed);
    }
    return feed;
  }

  /**
   * Adds and starts a source while the bridge runs (e.g. a room peer that starts publishing): it is served at
   * `/sources/<id>/…` by the bridge's MJPEG and WebSocket outputs and appears in `/health` and `/metrics`. Rejects
   * with `FW_ERR_INVALID_OPTION` when the id is taken, `FW_ERR_CLOSED` after `close()`.
   */
  async addSource(source: VideoSource): Promise<void> {
    if (this.#closing) throw new FramewireError('FW_ERR_CLOSED', 'the bridge was closed');
    assertOption(!this.#sources.some((s) => s.id === source.id), `addSource: a source with id ${source.id} exists`);
    this.#sources.push(source);
    this.#addOutputs(source);
    log.info(`source ${source.id} added`, { kind: source.kind });
    await source.start();
  }

  /**
   * Removes source `id` while the bridge runs: its viewers get a clean end (MJPEG responses end, WebSocket viewers
   * are closed with 1001 and `reason`), its encoders stop, the source is closed and it leaves `/health` and
   * `/metrics`. No-op for an unknown id.
   */
  async removeSource(id: string, reason = 'source ended'): Promise<void> {
    const source = this.#sources.find((s) => s.id === id);
    if (!source) return;
    this.#sources.splice(this.#sources.indexOf(source), 1);
    this.#motion?.removeSource(id);
    this.#mjpeg.get(id)?.close();
    this.#mjpeg.delete(id);
    this.#websocket.get(id)?.close(reason);
    this.#websocket.delete(id);
    const feeds = [...this.#feeds].filter(([, feed]) => feed.source === source);
    for (const [key] of feeds) this.#feeds.delete(key);
    await Promise.all(feeds.map(([, feed]) => feed.close()));
    await source.close();
    log.info(`source ${id} removed: ${reason}`);
  }

  #startMotion(motion: MotionOptions): MotionMonitor {
    const { width = MOTION_DEFAULTS.width, height = MOTION_DEFAULTS.height } = motion;
    const maxFrameRate = motion.frameRate ?? MOTION_DEFAULTS.frameRate;
    const gray = { width, height, maxFrameRate, idleStopMs: 0 };
    const monitor = new MotionMonitor(motion, (id) => this.feed(id, 'GRAY8', gray), this.#options.corsOrigin);
    monitor.checkSources(this.#sources.map((s) => s.id));
    return monitor;
  }

  /**
   * With `record.mode: 'triggered'` and `motion`, motion drives the recorders: each source's recorder is triggered
   * by its `start` and released by its `end` (the post-roll follows). Without `motion`, the caller triggers them.
   */
  #triggerRecordingsOnMotion(): void {
    const recordings = this.#recordings;
    if (!recordings || !this.#motion || recordings.options.mode !== 'triggered') return;
    this.#motion.on('start', ({ source }) => recordings.recorder(source)?.setTriggered(true));
    this.#motion.on('end', ({ source }) => recordings.recorder(source)?.setTriggered(false));
  }

  /** Motion detection, when the bridge was started with `motion`: its `start`/`end` events (e.g. to trigger a recorder). */
  get motion(): MotionMonitor | undefined {
    return this.#motion;
  }

  #addOutputs(source: VideoSource): void {
    this.#motion?.addSource(source.id);
    const options = this.#options;
    const mjpeg = options.mjpeg ?? true;
    const websocket = options.websocket ?? true;
    if (mjpeg !== false) {
      const settings = mjpeg === true ? {} : mjpeg;
      const feed = this.feed(source.id, 'jpeg', {
        ...(settings.quality === undefined ? {} : { jpegQuality: settings.quality }),
        ...(settings.width === undefined ? {} : { width: settings.width }),
      });
      this.#mjpeg.set(source.id, new MjpegOutput(feed, options.corsOrigin));
    }
    if (websocket !== false)
      this.#websocket.set(
        source.id,
        new WebSocketOutput(this.feed(source.id, 'h264'), websocket === true ? {} : websocket),
      );
  }

  /** The recording (`record`): its recorders (e.g. `recorder(id).setTriggered()`), directory and endpoint. */
  get recordings(): BridgeRecordings | undefined {
    return this.#recordings;
  }

  /** The WebRTC output, when the bridge was started with `webrtc`. */
  get webrtc(): WebRtcOutput | undefined {
    return this.#webrtc;
  }

  /** The WebSocket output of source `id` (default: the first source), when the bridge serves WebSocket. */
  websocket(id?: string): WebSocketOutput | undefined {
    return this.#websocket.get(id ?? this.#sources[0]?.id ?? '');
  }

  /** Registers something the bridge closes on shutdown (an output attached from outside). */
  attach(output: Closable): void {
    this.#extra.push(output);
  }

  /**
   * Serves WebSocket upgrades at `path` (e.g. `/mqtt`) with `endpoint`, behind the bridge's token check like every
   * other endpoint, and closes it on shutdown. Throws `FW_ERR_INVALID_OPTION` for a path the bridge already serves.
   */
  mountWebSocket(path: string, endpoint: UpgradeEndpoint): void {
    assertOption(
      /^\/[\w.-]+$/.test(path) && !this.#upgrades.has(path) && this.#resolve(path)?.name !== 'ws',
      `mountWebSocket: ${path} must be a free path like /mqtt`,
    );
    this.#upgrades.set(path, endpoint);
    this.attach(endpoint);
  }

  /** The current health report. */
  get health(): BridgeHealth {
    const sources = this.#sources.map((s) => s.health);
    const janus = this.#janusOutputs().map((output) => output.health);
    const recording = this.#recordings?.health;
    const healthy =
      sources.every((s) => ['running', 'starting', 'waiting', 'idle'].includes(s.state)) &&
      janus.every((j) => j.error === undefined) &&
      (recording ?? []).every((r) => r.error === undefined) &&
      !this.#motion?.failing;
    return {
      status: healthy ? 'ok' : 'degraded',
      service: 'framewire-bridge',
      version: VERSION,
      uptimeS: Math.round((Date.now() - this.#startedAtMs) / 1000),
      sources,
      outputs: this.#outputNames(),
      ...(janus.length === 0 ? {} : { janus }),
      ...(recording ? { recording } : {}),
      ...(this.#motion ? { motion: this.#motion.health } : {}),
    };
  }

  /** The `/metrics` text (Prometheus exposition format). */
  get metrics(): string {
    const families: MetricFamily[] = [];
    const add = (name: string, type: 'gauge' | 'counter', help: string, samples: MetricFamily['samples']): void => {
      families.push({ name, type, help, samples });
    };
    const healths = this.#sources.map((s) => s.health);
    const label = (h: { id: string; kind: string }): Record<string, string> => ({ source: h.id, kind: h.kind });
    add('framewire_uptime_seconds', 'gauge', 'Seconds since the bridge started.', [
      { value: (Date.now() - this.#startedAtMs) / 1000 },
    ]);
    add(
      'framewire_source_up',
      'gauge',
      '1 while the source delivers frames.',
      healths.map((h) => ({ labels: label(h), value: h.state === 'running' ? 1 : 0 })),
    );
    add(
      'framewire_source_idle',
      'gauge',
      '1 while a source that runs on demand (the test pattern of the CLI) is stopped because nothing consumes it.',
      healths.map((h) => ({ labels: label(h), value: h.state === 'idle' ? 1 : 0 })),
    );
    add(
      'framewire_source_fps',
      'gauge',
      'Frames per second over the last second.',
      healths.map((h) => ({ labels: label(h), value: h.fps })),
    );
    add(
      'framewire_source_bitrate_bps',
      'gauge',
      'Bits per second of source frames over the last second.',
      healths.map((h) => ({ labels: label(h), value: h.bitrateBps })),
    );
    add(
      'framewire_source_frames_total',
      'counter',
      'Frames produced.',
      healths.map((h) => ({ labels: label(h), value: h.frames })),
    );
    add(
      'framewire_source_bytes_total',
      'counter',
      'Bytes of frames produced.',
      healths.map((h) => ({ labels: label(h), value: h.bytes })),
    );
    add(
      'framewire_source_dropped_total',
      'counter',
      'Frames the source dropped (bad input, overload).',
      healths.map((h) => ({ labels: label(h), value: h.dropped })),
    );
    add(
      'framewire_source_restarts_total',
      'counter',
      'Source restarts after a failure.',
      healths.map((h) => ({ labels: label(h), value: h.restarts })),
    );
    add(
      'framewire_source_passthrough',
      'gauge',
      "1 while an ffmpeg source sends its input's track (media: video or audio) as is, 0 while it encodes it.",
      healths.flatMap((h) =>
        (['video', 'audio'] as const).flatMap((media) => {
          const mode = media === 'video' ? h.videoMode : h.audioMode;
          return mode === undefined || mode === 'probing'
            ? []
            : [{ labels: { ...label(h), media }, value: mode === 'passthrough' ? 1 : 0 }];
        }),
      ),
    );
    const outputs: {
      source: string;
      output: string;
      stats: OutputStats & { framesReceived?: number; bytesReceived?: number; workerRestarts?: number };
    }[] = [];
    for (const [source, output] of this.#mjpeg) outputs.push({ source, output: 'mjpeg', stats: output.stats });
    for (const [source, output] of this.#websocket) outputs.push({ source, output: 'websocket', stats: output.stats });
    if (this.#webrtc) outputs.push({ source: '*', output: 'webrtc', stats: this.#webrtc.stats });
    for (const extra of this.#extra) {
      const reporting = extra as Partial<{
        metricsLabels: { source: string; output: string };
        stats: (typeof outputs)[number]['stats'];
      }>;
      if (reporting.metricsLabels && reporting.stats)
        outputs.push({ ...reporting.metricsLabels, stats: reporting.stats });
    }
    const outLabel = (o: (typeof outputs)[number]): Record<string, string> => ({ source: o.source, output: o.output });
    add(
      'framewire_output_clients',
      'gauge',
      'Connected viewers.',
      outputs.map((o) => ({ labels: outLabel(o), value: o.stats.clients })),
    );
    add(
      'framewire_output_frames_total',
      'counter',
      'Frames sent to viewers.',
      outputs.map((o) => ({ labels: outLabel(o), value: o.stats.framesSent })),
    );
    add(
      'framewire_output_dropped_total',
      'counter',
      'Frames skipped for slow viewers.',
      outputs.map((o) => ({ labels: outLabel(o), value: o.stats.framesDropped })),
    );
    add(
      'framewire_output_bytes_total',
      'counter',
      'Bytes sent to viewers.',
      outputs.map((o) => ({ labels: outLabel(o), value: o.stats.bytesSent })),
    );
    const reported = (key: 'framesReceived' | 'bytesReceived' | 'workerRestarts'): MetricFamily['samples'] =>
      outputs.flatMap((o) => {
        const value = o.stats[key];
        return value === undefined ? [] : [{ labels: outLabel(o), value }];
      });
    add(
      'framewire_output_received_frames_total',
      'counter',
      'Frames received from peers (outputs that also receive, e.g. the room peer).',
      reported('framesReceived'),
    );
    add(
      'framewire_output_received_bytes_total',
      'counter',
      'Bytes of frames received from peers (outputs that also receive, e.g. the room peer).',
      reported('bytesReceived'),
    );
    add(
      'framewire_output_worker_restarts_total',
      'counter',
      'Restarts of an output worker process after it died.',
      reported('workerRestarts'),
    );
    const viewers = this.#webrtc?.passthroughSessions ?? [];
    const viewerLabel = (v: (typeof viewers)[number]): Record<string, string> => ({
      source: v.sourceId,
      session: v.id,
    });
    add(
      'framewire_webrtc_viewer_bytes_total',
      'counter',
      'RTP bytes sent to a WebRTC media viewer fed from a shared track (H.264 passthrough or shared VP8).',
      viewers.map((v) => ({ labels: viewerLabel(v), value: v.bytesSent })),
    );
    add(
      'framewire_webrtc_viewer_nacks_total',
      'counter',
      'RTCP NACKs a shared-track WebRTC viewer sent (answered from the packet cache).',
      viewers.map((v) => ({ labels: viewerLabel(v), value: v.nacks })),
    );
    add(
      'framewire_webrtc_viewer_plis_total',
      'counter',
      'RTCP picture loss indications (PLI and FIR) a shared-track WebRTC viewer sent.',
      viewers.map((v) => ({ labels: viewerLabel(v), value: v.plis + v.firs })),
    );
    add(
      'framewire_encoder_restarts_total',
      'counter',
      'Restarts of the shared encoders (crashes and input changes).',
      [...this.#feeds.values()].map((f) => ({
        labels: { source: f.source.id, format: f.format },
        value: f.stats.transcoderRestarts,
      })),
    );
    const encoders = [...this.#feeds.values()].map((f) => ({ feed: f, encoder: f.encoder }));
    const encoderLabel = ({ feed, encoder }: (typeof encoders)[number]): Record<string, string> => ({
      source: feed.source.id,
      format: feed.format,
      codec: encoder.codec,
    });
    add(
      'framewire_encoder_running',
      'gauge',
      '1 while the shared encoder of a source and format runs (one per source and format, whatever the viewers; started by its first consumer, stopped shortly after its last).',
      encoders.map((e) => ({ labels: encoderLabel(e), value: e.encoder.running ? 1 : 0 })),
    );
    add(
      'framewire_encoder_frames_in_total',
      'counter',
      'Frames handed to the shared encoder of a source and format.',
      encoders.map((e) => ({ labels: encoderLabel(e), value: e.encoder.framesIn })),
    );
    add(
      'framewire_encoder_frames_out_total',
      'counter',
      'Frames the shared encoder of a source and format produced.',
      encoders.map((e) => ({ labels: encoderLabel(e), value: e.encoder.framesOut })),
    );
    const janus = this.#janusOutputs().map((output) => output.health);
    const janusLabel = (j: (typeof janus)[number]): Record<string, string> => ({
      source: j.source,
      mountpoint: String(j.mountpointId),
    });
    add(
      'framewire_janus_mountpoint_up',
      'gauge',
      '1 while the Janus mountpoint of a source exists and receives its RTP (--janus-url).',
      janus.map((j) => ({ labels: janusLabel(j), value: j.state === 'ready' ? 1 : 0 })),
    );
    add(
      'framewire_janus_mountpoint_viewers',
      'gauge',
      'Viewers Janus reports on the mountpoint of a source.',
      janus.map((j) => ({ labels: janusLabel(j), value: j.viewers })),
    );
    add(
      'framewire_janus_mountpoint_creations_total',
      'counter',
      'Times the Janus mountpoint of a source was created (again after each Janus restart).',
      janus.map((j) => ({ labels: janusLabel(j), value: j.creations })),
    );
    if (this.#recordings) families.push(...this.#recordings.metrics);
    families.push(...(this.#motion?.metricFamilies ?? []));
    add('framewire_http_unauthorized_total', 'counter', 'Requests refused for a missing or wrong token.', [
      { value: this.#unauthorized },
    ]);
    return formatPrometheus(families);
  }

  /** Stops the outputs, the sources and the server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#motion?.close();
      for (const output of this.#mjpeg.values()) output.close();
      for (const output of this.#websocket.values()) output.close();
      await this.#webrtc?.close();
      await this.#recordings?.close();
      await Promise.all(this.#extra.map(async (output) => output.close()));
      await Promise.all([...this.#feeds.values()].map((feed) => feed.close()));
      await Promise.all(this.#sources.map((s) => s.close()));
      await closeServer(this.#server);
    })();
    return this.#closing;
  }

  /**
   * True when `request` carries the token (or no token is configured): `Authorization: Bearer <token>`,
   * `?token=<token>`, or the bare token as the whole `Authorization` header (what some WHEP players send).
   */
  authorized(request: IncomingMessage): boolean {
    if (!this.#tokenHash) return true;
    const header = request.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const query = new URL(request.url ?? '/', 'http://bridge').searchParams.get('token') ?? undefined;
    // The bare token as the whole header (no scheme), as @eyevinn/webrtc-player sends its key.
    const bare = header !== undefined && !/\s/.test(header.trim()) ? header.trim() : undefined;
    const given = bearer ?? query ?? bare;
    return given !== undefined && timingSafeEqual(sha(given), this.#tokenHash);
  }

  #janusOutputs(): JanusOutput[] {
    return this.#extra.filter((extra): extra is JanusOutput => extra instanceof JanusOutput);
  }

  #outputNames(): string[] {
    const names: string[] = [];
    if (this.#mjpeg.size > 0) names.push('mjpeg');
    if (this.#websocket.size > 0) names.push('websocket');
    if (this.#webrtc) names.push('webrtc');
    if (this.#recordings) names.push('recording');
    for (const extra of this.#extra) {
      const labels = (extra as Partial<{ metricsLabels: { output: string } }>).metricsLabels;
      if (labels && !names.includes(labels.output)) names.push(labels.output);
    }
    return names;
  }

  #refuse(request: IncomingMessage): FramewireError {
    this.#unauthorized++;
    const error = new FramewireError(
      'FW_ERR_UNAUTHORIZED',
      `unauthorized request for ${new URL(request.url ?? '/', 'http://bridge').pathname} from ${request.socket.remoteAddress ?? '?'}`,
      { stage: 'auth' },
    );
    log.warn(error.message);
    return error;
  }

  /** Resolves `/sources/<id>/<name>` or `/<name>` (first source) to the source id and endpoint name. */
  #resolve(path: string): { id: string; name: string } | undefined {
    const match = /^\/(?:sources\/([\w.-]+)\/)?([\w.-]+)$/.exec(path);
    if (!match) return undefined;
    const id = match[1] ?? this.#sources[0]?.id;
    return id === undefined ? undefined : { id, name: match[2] ?? '' };
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://bridge');
    const path = url.pathname;
    const cors = this.#options.corsOrigin ?? '*';
    if (request.method === 'OPTIONS' && this.#whipWhep?.handles(path)) {
      this.#whipWhep.options(request, response, this.authorized(request));
      return;
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        'access-control-allow-origin': cors,
        'access-control-allow-methods': 'GET, HEAD, POST, PATCH, DELETE, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      });
      response.end();
      return;
    }
    if (path === BRIDGE_PATHS.health && (request.method === 'GET' || request.method === 'HEAD')) {
      sendJson(response, 200, this.health);
      return;
    }
    if (!this.authorized(request)) {
      const error = this.#refuse(request);
      response.setHeader('www-authenticate', 'Bearer realm="framewire-bridge"');
      sendError(response, 401, error.code, 'a valid token is required (Authorization: Bearer … or ?token=…)');
      return;
    }
    if (
      this.#static &&
      path.startsWith(BRIDGE_PATHS.files) &&
      (request.method === 'GET' || request.method === 'HEAD')
    ) {
      await this.#static.handle(request, response, path.slice(BRIDGE_PATHS.files.length));
      return;
    }
    if (this.#recordings?.endpoint.handles(path)) {
      await this.#recordings.endpoint.handle(request, response, path);
      return;
    }
    if (this.#webrtc && (await this.#routeWebRtc(request, response, path))) return;
    const target = this.#resolve(path);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendError(response, 405, 'FW_ERR_PROTOCOL_VIOLATION', `method not allowed: ${request.method ?? ''}`);
      return;
    }
    if (path === BRIDGE_PATHS.events && this.#motion && request.method === 'GET') {
      this.#motion.handleEvents(request, response);
      return;
    }
    if (path === BRIDGE_PATHS.metrics) {
      const text = this.metrics;
      response.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      });
      response.end(text);
      return;
    }
    const mjpeg = target && this.#mjpeg.get(target.id);
    if (mjpeg && target.name === 'video') {
      mjpeg.handleStream(request, response);
      return;
    }
    if (mjpeg && target.name === 'snapshot.jpg') {
      await mjpeg.handleSnapshot(response);
      return;
    }
    sendError(response, 404, 'FW_ERR_NOT_FOUND', `not found: ${path}`);
  }

  /**
   * Handles the WHIP/WHEP endpoints (`[/sources/<id>]/whep`, `/whip`), their aliases `[/sources/<id>]/offer` and
   * `/publish` (which also take JSON offers) and their session resources; false for other paths.
   */
  async #routeWebRtc(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    if (this.#whipWhep && (await this.#whipWhep.handle(request, response, path))) return true;
    const webrtc = this.#webrtc;
    const match = /^(?:\/sources\/([\w.-]+))?\/(offer|publish)(?:\/([\w-]+))?$/.exec(path);
    if (!webrtc || !match || (match[1] !== undefined && match[2] === 'publish')) return false;
    const [, id = this.#sources[0]?.id ?? '', kind, session] = match;
    response.setHeader('access-control-allow-origin', this.#options.corsOrigin ?? '*');
    if (session !== undefined) {
      await webrtc.handleSession(request, response, session);
      return true;
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST, OPTIONS');
      sendError(response, 405, 'FW_ERR_PROTOCOL_VIOLATION', 'method not allowed: POST an SDP offer');
      return true;
    }
    if (!this.#sources.some((s) => s.id === id)) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', `not found: ${path}`);
      return true;
    }
    await webrtc.handleOffer(request, response, id, kind === 'publish' ? 'publish' : 'view');
    return true;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => log.debug(`upgrade socket: ${error.message}`));
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!this.authorized(request)) {
      this.#refuse(request);
      reject(401, 'Unauthorized');
      return;
    }
    const path = new URL(request.url ?? '/', 'http://bridge').pathname;
    const mounted = this.#upgrades.get(path);
    if (mounted) {
      mounted.handleUpgrade(request, socket, head);
      return;
    }
    const target = this.#resolve(path);
    const output = target?.name === 'ws' ? this.#websocket.get(target.id) : undefined;
    if (!output) {
      reject(404, 'Not Found');
      return;
    }
    output.handleUpgrade(request, socket, head);
  }
}
