/**
 * framewire for the browser: capture, stabilize, encode, record, package and exchange video.
 *
 * Loaded by a `<script>` tag it defines the global `Framewire`; from a bundler, import the named exports.
 * @packageDocumentation
 */

// core
export {
  ERROR_CODES,
  FramewireError,
  LOG_LEVELS,
  TypedEmitter,
  createLogger,
  getLogLevel,
  isErrorCode,
  setLogLevel,
  type ErrorCode,
  type EventMap,
  type FramewireErrorOptions,
  type Listener,
  type LogLevel,
  type LogRecord,
  type LogSink,
  type Logger,
} from '@framewire/core';
export {
  DEFAULT_QUEUE_CAPACITY,
  FrameQueue,
  type FrameQueueOptions,
  type FrameQueueStats,
  type QueuePolicy,
} from './core/frame-queue.js';
export { copyCaptureTime, getCaptureTime, latencySinceCaptureMs, stampCaptureTime } from './core/capture-time.js';
export { RateMeter } from './core/rate-meter.js';
export { assetUrl, setAssetBaseUrl } from './core/asset-url.js';
export {
  loadDash,
  loadHls,
  loadOpenCv,
  type DashJs,
  type HlsClass,
  type OpenCv,
  type OpenCvModule,
} from './core/lazy-modules.js';
export { VERSION } from './version.js';

// ① sources
export type { FrameSource, FrameSourceEvents, FrameSourceStats, SourceQueueOptions } from './sources/frame-source.js';
export { QueuedFrameSource } from './sources/queued-frame-source.js';
export { TrackSource } from './sources/track-source.js';
export { CameraSource, type CameraDevice, type CameraSourceOptions } from './sources/camera-source.js';

// ③ encoders
export { avcCodecForSize } from './encoders/avc-codec-string.js';
export {
  WorkerVideoEncoder,
  type WorkerVideoEncoderEvents,
  type WorkerVideoEncoderOptions,
} from './encoders/worker-video-encoder.js';

// ④ network
export * from './network/index.js';
export type {
  IceServer,
  PeerInfo,
  PeerRole,
  ServerMessage,
  ClientMessage,
  SignalPayload,
  WelcomeMessage,
} from '@framewire/signaling/protocol';
