/*
 * The bridge's wire protocol: isomorphic types, constants and codecs shared with the browser SDK (no DOM, no
 * `node:`). Everything a client needs to talk to a bridge is defined here, once. It lives in core, below both the
 * SDK and the bridge, because the bridge also runs the SDK's Room (its room peer): were it in the bridge's package,
 * the SDK and the bridge would depend on each other. The bridge publishes it as `@framewire/node-bridge/protocol`.
 */

/**
 * Health of one bridge source. `waiting`: up, with nothing to serve for now (a room source whose publishers all
 * left; it runs again when one publishes). `ended`: the source will never deliver again (a room peer's source
 * after the peer left; the bridge removes it). `idle`: healthy, and not running because nothing consumes it (a
 * source that runs on demand, such as the CLI's test pattern); its first viewer, snapshot or other output starts it.
 */
export type SourceState = 'starting' | 'running' | 'waiting' | 'idle' | 'restarting' | 'failed' | 'ended' | 'stopped';

/** One source in the `/health` answer. */
export interface SourceHealth {
  /** The source's id, used in URLs (e.g. `testpattern`). */
  id: string;
  /** What kind of source it is, e.g. `testpattern`, `v4l2`, `picamera`, `url`, `netgear`. */
  kind: string;
  /** Current state. */
  state: SourceState;
  /** Frames produced since start. */
  frames: number;
  /** Restarts after a failure since start. */
  restarts: number;
  /** Frames per second over the last second. */
  fps: number;
  /** Bytes of frame data produced since start. */
  bytes: number;
  /** Bitrate of the frames over the last second, in bits per second. */
  bitrateBps: number;
  /** Frames the source dropped (bad input, overload) since start. */
  dropped: number;
  /** The last error code, when the source failed at least once. */
  lastError?: string;
  /** Opus packets of the source's audio since start (20 ms each); present only on sources with audio (`--audio`). */
  audioPackets?: number;
  /**
   * What an ffmpeg source (test pattern, file, URL, V4L2) does with its video: `passthrough` (the input's H.264 as
   * is), `encode` (decoded, or generated, and encoded by the bridge) or `probing` (ffprobe is looking at the input).
   */
  videoMode?: SourceMediaMode;
  /** The same for the audio of an ffmpeg source with audio: `passthrough` when its Opus is copied as is. */
  audioMode?: SourceMediaMode;
  /** The ffmpeg filtergraph of a source given one (`#vf=` in its spec); absent otherwise. */
  videoFilter?: VideoFilterHealth;
}

/** A source's ffmpeg filtergraph in `/health` (see {@link SourceHealth.videoFilter}). */
export interface VideoFilterHealth {
  /** The filtergraph, e.g. `hflip,eq=gamma=1.2`. */
  graph: string;
  /**
   * True when the input's H.264 would have been passed through as is, and is decoded and encoded to H.264 again
   * (once, by the source's ffmpeg) because filters need pictures; false for inputs decoded anyway.
   */
  reencoded: boolean;
  /** ffmpeg's reason when it rejected the graph (the source then failed with `FW_ERR_FILTER_REJECTED`). */
  rejected?: string;
}

/** What a source does with a track of its input: see {@link SourceHealth.videoMode}. */
export type SourceMediaMode = 'passthrough' | 'encode' | 'probing';

/** The JSON body of `GET /health`. */
export interface BridgeHealth {
  /**
   * `ok` when every source runs, starts, waits for a publisher or is idle (on demand, no consumer); `degraded` when
   * one is restarting or failed.
   */
  status: 'ok' | 'degraded';
  /** Always `framewire-bridge`. */
  service: 'framewire-bridge';
  /** The bridge version. */
  version: string;
  /** Seconds since the bridge started. */
  uptimeS: number;
  /** Every source. */
  sources: SourceHealth[];
  /** The outputs this bridge serves, e.g. `['mjpeg', 'websocket', 'webrtc']`. */
  outputs: string[];
  /** The Janus mountpoints (`--janus-url`), one per source; absent without Janus. */
  janus?: JanusMountpointHealth[];
  /** The recorders (`--record`), one per recorded source; absent without recording. */
  recording?: RecordingHealth[];
  /** Motion detection (`--motion`): each watched source and the webhook's state; absent without it. */
  motion?: MotionHealth;
}

/**
 * The state of a source's recorder: `recording` (a file is open), `waiting` (for the first keyframe, or in
 * triggered mode for a trigger: the pre-roll is kept), `error` (see `error`; the stream goes on and the recorder
 * tries again at the next segment), `closed`.
 */
export type RecordingState = 'waiting' | 'recording' | 'error' | 'closed';

/** One recorder in the `/health` answer. */
export interface RecordingHealth {
  /** The source it records. */
  source: string;
  /** `continuous` or `triggered` (motion). */
  mode: 'continuous' | 'triggered';
  /** Its state. */
  state: RecordingState;
  /** The file being written, when `recording`. */
  file?: string;
  /** Files it finished since the bridge started. */
  files: number;
  /** Bytes it wrote since the bridge started. */
  bytesWritten: number;
  /** The last failure (`FW_ERR_WRITE_FAILED`: directory not writable, disk or `maxBytes` full), while it lasts. */
  error?: { code: string; message: string };
}

/** Motion detection in the `/health` answer. */
export interface MotionHealth {
  /** Each source motion detection watches. */
  sources: { source: string; active: boolean; events: number }[];
  /** The webhook's state, with `--motion-webhook`: its last delivery failure (`FW_ERR_WEBHOOK_FAILED`), if any. */
  webhook?: { delivered: number; failed: number; error?: { code: string; message: string } };
}

/** A rectangle in fractions of the frame (0..1 from the top-left corner). */
export interface MotionBox {
  /** Left edge, a fraction of the width. */
  x: number;
  /** Top edge, a fraction of the height. */
  y: number;
  /** Width, a fraction of the frame's width. */
  width: number;
  /** Height, a fraction of the frame's height. */
  height: number;
}

/**
 * A motion event of the bridge, as `GET /events` (Server-Sent Events named `motion-start` and `motion-end`), the
 * motion webhook (POST) and MQTT (`<prefix>/<source id>/motion`) carry it, in JSON.
 */
export interface BridgeMotionEvent {
  /** `motion-start` after enough changed frames in a row, `motion-end` after a quiet period. */
  type: 'motion-start' | 'motion-end';
  /** The source. */
  source: string;
  /** When it happened (the capture time of the deciding frame), in ms since the Unix epoch. */
  timeMs: number;
  /** Mean absolute difference of the watched pixels from the previous sample, 0..1 (the peak during the event at its end). */
  score: number;
  /** Fraction of the watched pixels that changed, 0..1 (the peak during the event at its end). */
  area: number;
  /** Bounding box of the changed pixels (at the end: of every change during the event); absent when none changed. */
  box?: MotionBox;
  /** On `motion-end`: when the event started, in ms since the Unix epoch. */
  startedAtMs?: number;
}

/**
 * The state of a Janus mountpoint the bridge feeds: `waiting` for the source's first keyframe (its H.264 profile),
 * `creating` it over Janus's HTTP API, `ready` (RTP flows to it), `retrying` after a failure (see `error`), `closed`.
 */
export type JanusMountpointState = 'waiting' | 'creating' | 'ready' | 'retrying' | 'closed';

/** One Janus mountpoint in the `/health` answer. */
export interface JanusMountpointHealth {
  /** The source it serves. */
  source: string;
  /** Janus's HTTP API URL. */
  url: string;
  /** The mountpoint's id (its description is the source id). */
  mountpointId: number;
  /** Its state. */
  state: JanusMountpointState;
  /** True when it carries the source's Opus audio beside the H.264. */
  audio: boolean;
  /** Viewers Janus reported at the last check. */
  viewers: number;
  /** How many times the mountpoint was created (more than 1 after Janus restarted). */
  creations: number;
  /** Milliseconds since Janus last received video on it, at the last check. */
  videoAgeMs?: number;
  /** The UDP port Janus receives the video on. */
  videoPort?: number;
  /** The UDP port Janus receives the audio on. */
  audioPort?: number;
  /** The last failure while it is not ready, e.g. `{ code: 'FW_ERR_JANUS_REFUSED', message }` for a wrong API secret. */
  error?: { code: string; message: string };
}

/**
 * The bridge's HTTP paths. Per-source paths are `/sources/<id>/<name>` (e.g. `/sources/cam/ws`); the unprefixed
 * paths serve the first source (WebGear's and WebGear_RTC's URLs).
 */
export const BRIDGE_PATHS = {
  /** JSON {@link BridgeHealth}; the only path open without a token. */
  health: '/health',
  /** Prometheus text exposition: fps, bitrate, clients, drops, restarts. */
  metrics: '/metrics',
  /** MJPEG stream (`multipart/x-mixed-replace`), at the bridge's `mjpeg` quality and width options. */
  video: '/video',
  /** The newest JPEG frame. */
  snapshot: '/snapshot.jpg',
  /** WebSocket upgrade: H.264 access units with a {@link WsFrameHeader} each, JSON {@link WsServerMessage}s. */
  websocket: '/ws',
  /** WebRTC offer/answer (`POST`, JSON `{ type: 'offer', sdp }` or WHEP's `application/sdp`). */
  offer: '/offer',
  /** Static files (when the bridge was given a directory): `/files/<path>`. */
  files: '/files/',
  /** MQTT over WebSocket, relayed to the broker's TCP listener (CLI `--mqtt-relay`). */
  mqtt: '/mqtt',
  /** Server-Sent Events of motion detection (`--motion`): `motion-start` and `motion-end`, JSON {@link BridgeMotionEvent}. */
  events: '/events',
} as const;

/** The WebSocket subprotocol version carried in {@link WsHelloMessage} and every frame header. */
export const WS_PROTOCOL_VERSION = 1;

/** Bytes of the binary header before each access unit on the bridge WebSocket. */
export const WS_FRAME_HEADER_BYTES = 24;

/** First byte of every binary frame message (`F`). */
const WS_FRAME_MAGIC = 0x46;

/** Flag bits of {@link WsFrameHeader.flags}. */
export const WS_FRAME_FLAGS = {
  /** The access unit is a keyframe (IDR): a decoder can start here. */
  key: 1,
  /** The access unit carries its codec configuration in band (SPS/PPS before the IDR). */
  config: 2,
} as const;

/**
 * The picture type codes of {@link WsFrameHeader.frameType} in the header's fourth byte (0: not known). Bridges that
 * predate them send 0 there, and clients that predate them ignore that byte: both directions stay compatible.
 */
export const WS_FRAME_TYPES = { I: 1, P: 2, B: 3 } as const;

/** A picture type of {@link WS_FRAME_TYPES}: `I`, `P` or `B`. */
export type WsFrameType = keyof typeof WS_FRAME_TYPES;

/**
 * The header before each binary access unit on the bridge WebSocket (24 bytes, big-endian):
 * `F` · version u8 · flags u8 · frame type u8 · sequence u32 · timestampUs f64 · captureTimeMs f64. The frame type
 * byte was reserved (always 0) before frame types were sent; it is 0 when the bridge does not know the type.
 */
export interface WsFrameHeader {
  /** {@link WS_FRAME_FLAGS} bits. */
  flags: number;
  /**
   * The access unit's picture type, from its first slice header (see {@link WS_FRAME_TYPES}); absent when not known
   * (a bridge that predates it, a codec other than H.264). Default: absent.
   */
  frameType?: WsFrameType;
  /** Per-connection frame counter, starting at 0; a gap means frames were skipped for this client. */
  sequence: number;
  /** Presentation time from the source, in µs. */
  timestampUs: number;
  /** Capture wall-clock time, in ms since the Unix epoch: the start of glass-to-glass latency. */
  captureTimeMs: number;
}

/** Builds one binary WebSocket message: the {@link WsFrameHeader} then `payload`. */
export function encodeWsFrame(header: WsFrameHeader, payload: Uint8Array): Uint8Array {
  const message = new Uint8Array(WS_FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(message.buffer);
  view.setUint8(0, WS_FRAME_MAGIC);
  view.setUint8(1, WS_PROTOCOL_VERSION);
  view.setUint8(2, header.flags);
  view.setUint8(3, header.frameType === undefined ? 0 : WS_FRAME_TYPES[header.frameType]);
  view.setUint32(4, header.sequence >>> 0);
  view.setFloat64(8, header.timestampUs);
  view.setFloat64(16, header.captureTimeMs);
  message.set(payload, WS_FRAME_HEADER_BYTES);
  return message;
}

/**
 * Reads a binary WebSocket message into its header and payload (a view, not a copy). Returns `undefined` when
 * the message is too short, has the wrong magic byte or an unknown version.
 */
export function decodeWsFrame(message: Uint8Array): { header: WsFrameHeader; payload: Uint8Array } | undefined {
  if (message.byteLength < WS_FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (view.getUint8(0) !== WS_FRAME_MAGIC || view.getUint8(1) !== WS_PROTOCOL_VERSION) return undefined;
  const frameType = FRAME_TYPE_NAMES[view.getUint8(3)];
  return {
    header: {
      flags: view.getUint8(2),
      ...(frameType === undefined ? {} : { frameType }),
      sequence: view.getUint32(4),
      timestampUs: view.getFloat64(8),
      captureTimeMs: view.getFloat64(16),
    },
    payload: message.subarray(WS_FRAME_HEADER_BYTES),
  };
}

/** {@link WS_FRAME_TYPES} by code; unknown codes (a later bridge's) read as not known. */
const FRAME_TYPE_NAMES: readonly (WsFrameType | undefined)[] = [undefined, 'I', 'P', 'B'];

/** First byte of every binary audio message (`A`). */
const WS_AUDIO_MAGIC = 0x41;

/**
 * The query parameter with which a viewer asks for the source's audio on the bridge WebSocket (`/ws?audio=1`):
 * only such viewers get a {@link WsAudioConfigMessage} and audio messages ({@link encodeWsAudio}), so viewers that
 * predate audio never see them.
 */
export const WS_AUDIO_QUERY = 'audio';

/**
 * The header before each Opus packet on the bridge WebSocket, the same 24 bytes as {@link WsFrameHeader} with `A`
 * as first byte: `A` · version u8 · flags u8 (0) · reserved u8 · sequence u32 · timestampUs f64 · captureTimeMs f64.
 */
export interface WsAudioHeader {
  /** Per-connection audio packet counter, starting at 0; a gap means packets were skipped for this client. */
  sequence: number;
  /** Presentation time of the packet's first sample, in µs since the source's audio started. */
  timestampUs: number;
  /** Capture wall-clock time of its first sample, in ms since the Unix epoch (the video frames' clock). */
  captureTimeMs: number;
}

/** Builds one binary audio message: the {@link WsAudioHeader} then one Opus packet. */
export function encodeWsAudio(header: WsAudioHeader, payload: Uint8Array): Uint8Array {
  const message = encodeWsFrame({ ...header, flags: 0 }, payload);
  message[0] = WS_AUDIO_MAGIC;
  return message;
}

/**
 * Reads a binary audio message into its header and Opus packet (a view). Returns `undefined` for anything else
 * (a video frame, a short message, an unknown version): audio and video messages tell themselves apart by their
 * first byte.
 */
export function decodeWsAudio(message: Uint8Array): { header: WsAudioHeader; payload: Uint8Array } | undefined {
  if (message.byteLength < WS_FRAME_HEADER_BYTES) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (view.getUint8(0) !== WS_AUDIO_MAGIC || view.getUint8(1) !== WS_PROTOCOL_VERSION) return undefined;
  return {
    header: { sequence: view.getUint32(4), timestampUs: view.getFloat64(8), captureTimeMs: view.getFloat64(16) },
    payload: message.subarray(WS_FRAME_HEADER_BYTES),
  };
}

/** First text message on a bridge WebSocket. */
export interface WsHelloMessage {
  type: 'hello';
  /** {@link WS_PROTOCOL_VERSION}. */
  version: number;
  /** The source's id. */
  sourceId: string;
  /** The source's kind. */
  sourceKind: string;
}

/**
 * The decoder configuration, sent before the first keyframe a client receives and whenever it changes.
 * Access units are Annex B (start codes, SPS/PPS in band), so no `description` is needed.
 */
export interface WsConfigMessage {
  type: 'config';
  /** WebCodecs codec string, e.g. `avc1.42c01f`. */
  codec: string;
  /** Coded width in pixels. */
  codedWidth: number;
  /** Coded height in pixels. */
  codedHeight: number;
}

/**
 * The audio decoder configuration, sent once after `hello` to a viewer that asked for audio ({@link WS_AUDIO_QUERY})
 * when the source has audio. Opus packets need no `description` (WebCodecs' Opus default).
 */
export interface WsAudioConfigMessage {
  type: 'audio-config';
  /** WebCodecs codec string: `opus`. */
  codec: 'opus';
  /** Always 48000. */
  sampleRate: number;
  /** 1 or 2. */
  numberOfChannels: number;
}

/** The bridge reports a problem (then usually closes the socket). */
export interface WsErrorMessage {
  type: 'error';
  /** A `FW_ERR_…` code. */
  code: string;
  /** Human-readable text. */
  message: string;
}

/** Every JSON text message the bridge sends on its WebSocket. */
export type WsServerMessage = WsHelloMessage | WsConfigMessage | WsAudioConfigMessage | WsErrorMessage;

/** Parses a text message from the bridge; `undefined` when it is not a known {@link WsServerMessage}. */
export function parseWsServerMessage(text: string): WsServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'hello':
      return typeof message['version'] === 'number' && typeof message['sourceId'] === 'string'
        ? (message as unknown as WsHelloMessage)
        : undefined;
    case 'config':
      return typeof message['codec'] === 'string' &&
        typeof message['codedWidth'] === 'number' &&
        typeof message['codedHeight'] === 'number'
        ? (message as unknown as WsConfigMessage)
        : undefined;
    case 'audio-config':
      return message['codec'] === 'opus' &&
        typeof message['sampleRate'] === 'number' &&
        typeof message['numberOfChannels'] === 'number'
        ? (message as unknown as WsAudioConfigMessage)
        : undefined;
    case 'error':
      return typeof message['code'] === 'string' ? (message as unknown as WsErrorMessage) : undefined;
    default:
      return undefined;
  }
}

/**
 * A viewer acknowledges the frames it has received, up to and including `sequence` (the {@link WsFrameHeader}
 * sequence). A viewer that sends acks is judged slow by the frames it has not acknowledged (the bridge's
 * `maxUnackedFrames`), which reacts at once, instead of by the bridge's send buffer, which on loopback fills only
 * after the kernel's socket buffers (seconds of video). Viewers that never ack keep the buffer rule.
 */
export interface WsAckMessage {
  type: 'ack';
  /** The newest frame sequence received. */
  sequence: number;
}

/** Every JSON text message a viewer sends on the bridge WebSocket. */
export type WsClientMessage = WsAckMessage;

/** Parses a text message from a viewer; `undefined` when it is not a known {@link WsClientMessage}. */
export function parseWsClientMessage(text: string): WsClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const sequence = message['sequence'];
  return message['type'] === 'ack' && typeof sequence === 'number' && Number.isInteger(sequence) && sequence >= 0
    ? { type: 'ack', sequence }
    : undefined;
}

/** The JSON body of `POST /offer` (WebGear_RTC's format) and of its answer. */
export interface SessionDescriptionMessage {
  /** `offer` in the request, `answer` in the response. */
  type: 'offer' | 'answer';
  /** The SDP. */
  sdp: string;
}

/**
 * Label of the data channel on which a WebRTC viewer that offers with `?delivery=datachannel` receives the source's
 * H.264: the WebSocket's messages ({@link WsConfigMessage} as text, {@link WsFrameHeader} + access unit as binary),
 * each binary message cut into chunks of at most {@link DATA_CHANNEL_CHUNK_BYTES} (SCTP messages above 64 KiB are
 * not portable) with a one-byte prefix: 1 on the last chunk of a frame message, 0 on the others.
 */
export const H264_DATA_CHANNEL_LABEL = 'fw.h264';

/** Largest chunk of a frame message on the {@link H264_DATA_CHANNEL_LABEL} channel, in bytes (prefix excluded). */
export const DATA_CHANNEL_CHUNK_BYTES = 16 * 1024;

/** Cuts a binary frame message into the prefixed chunks of the {@link H264_DATA_CHANNEL_LABEL} channel. */
export function chunkDataChannelMessage(message: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < message.byteLength || chunks.length === 0; at += DATA_CHANNEL_CHUNK_BYTES) {
    const end = Math.min(message.byteLength, at + DATA_CHANNEL_CHUNK_BYTES);
    const chunk = new Uint8Array(1 + end - at);
    chunk[0] = end === message.byteLength ? 1 : 0;
    chunk.set(message.subarray(at, end), 1);
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * Joins the prefixed chunks of the {@link H264_DATA_CHANNEL_LABEL} channel back into frame messages: `push()` each
 * binary message; it returns the whole frame message on its last chunk, `undefined` before. A frame message larger
 * than `maxBytes` is dropped (`push()` throws a `RangeError` once, then ignores the rest of that message), so a
 * broken sender cannot exhaust memory.
 */
export class DataChannelMessageAssembler {
  readonly #maxBytes: number;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #discarding = false;

  /** Assembles messages of at most `maxBytes` (default 32 MiB). */
  constructor(maxBytes = 32 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** Adds one chunk; returns the completed message on the last chunk of a frame. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.byteLength < 1) throw new RangeError('an empty data channel chunk');
    const last = chunk[0] === 1;
    if (this.#discarding) {
      this.#discarding = !last;
      return undefined;
    }
    const body = chunk.subarray(1);
    this.#bytes += body.byteLength;
    if (this.#bytes > this.#maxBytes) {
      this.#parts = [];
      this.#bytes = 0;
      this.#discarding = !last;
      throw new RangeError(`a data channel message larger than ${this.#maxBytes} bytes`);
    }
    this.#parts.push(body);
    if (!last) return undefined;
    const parts = this.#parts;
    const message = parts.length === 1 && parts[0] ? parts[0] : new Uint8Array(this.#bytes);
    if (parts.length > 1) {
      let at = 0;
      for (const part of parts) {
        message.set(part, at);
        at += part.byteLength;
      }
    }
    this.#parts = [];
    this.#bytes = 0;
    return message;
  }
}

/** WebSocket close codes the bridge uses (4000–4999 are application codes). */
export const WS_CLOSE_CODES = {
  /** The bridge is shutting down. */
  goingAway: 1001,
  /** The client sent a message larger than allowed. */
  tooLarge: 1009,
  /** The requested source does not exist. */
  unknownSource: 4404,
} as const;
