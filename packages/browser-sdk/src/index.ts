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
export { getFrameInfo, type FrameInfo } from './core/frame-info.js';
export { RateMeter } from './core/rate-meter.js';
export { ReconnectBackoff, type ReconnectBackoffOptions } from './core/reconnect-backoff.js';
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
export { loadMediabunny, type Mediabunny } from './core/mediabunny-loader.js';
export { loadMqtt, type MqttJs, type MqttJsClient, type MqttJsConnectOptions } from './core/mqtt-loader.js';
export { VERSION } from './version.js';

// ① sources
export type { FrameSource, FrameSourceEvents, FrameSourceStats, SourceQueueOptions } from './core/frame-source.js';
export { QueuedFrameSource } from './core/queued-frame-source.js';
export { TrackSource } from './sources/track-source.js';
export {
  CameraSource,
  type CameraDevice,
  type CameraDevicesChange,
  type CameraSourceOptions,
} from './sources/camera-source.js';
export { ScreenSource, type ScreenRegion, type ScreenSourceOptions } from './sources/screen-source.js';
export {
  FileSource,
  type FileAudioInfo,
  type FileAudioTrack,
  type FileInput,
  type FileSourceOptions,
} from './sources/file-source.js';
export { ElementSource, type ElementSourceOptions, type FrameElement } from './sources/element-source.js';
export { StreamSource, type StreamSourceOptions, type StreamType } from './sources/stream-source.js';
export { MqttSource, type MqttSourceOptions } from './sources/mqtt-source.js';
export type { MqttBrokerOptions } from './network/mqtt-connect.js';
export {
  MqttOutput,
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- kept for one release (docs/guides/names.md)
  MqttSink,
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- kept for one release (docs/guides/names.md)
  type MqttSinkOptions,
  type MqttOutputEvents,
  type MqttOutputOptions,
  type MqttOutputStats,
} from './outputs/mqtt-output.js';
export {
  BridgeSource,
  type BridgeLatency,
  type BridgeSourceOptions,
  type BridgeSourceStats,
} from './sources/bridge-source.js';
export { WhepSource, type WhepSourceOptions, type WhepSourceStats } from './sources/whep-source.js';
export { JanusSource, type JanusSourceOptions, type JanusSourceStats } from './sources/janus-source.js';
export {
  BridgePublisher,
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- kept for one release (docs/guides/names.md)
  publishToBridge,
  type BridgePublishOptions,
  type BridgePublisherEvents,
  type BridgePublisherState,
} from './outputs/bridge-publisher.js';
export { openSource, type SourceSpec, type StabilizeOption } from './open-source.js';

// ② transforms
export { Stabilizer } from './transforms/stabilizer.js';
export { StabilizedSource, stabilize, type StabilizedSourceOptions } from './transforms/stabilized-source.js';
export type { StabilizerEvents, StabilizerStats } from './transforms/stabilizer/stabilizer-client.js';
export {
  STABILIZER_BORDER_TYPES,
  STABILIZER_SMOOTHINGS,
  type StabilizerBorderType,
  type StabilizerOptions,
  type StabilizerSmoothing,
} from './transforms/stabilizer/stabilizer-options.js';
export type { PixelRect, StabilizerTransform } from './transforms/stabilizer/stabilizer-transform.js';
export { Crop, crop, type CropOptions, type CroppedSourceOptions } from './transforms/crop.js';
export {
  Resize,
  resize,
  type ResizeOptions,
  type ResizeQuality,
  type ResizedSourceOptions,
} from './transforms/resize.js';
export { TransformedSource, type TransformedSourceOptions } from './transforms/transformed-source.js';

// ③ encoders
export { avcCodecForSize } from './encoders/avc-codec-string.js';
export {
  RECORDER_VIDEO_CODECS,
  chooseVideoCodec,
  codecStringFor,
  type ChosenCodec,
  type CodecProbeOptions,
  type RecorderVideoCodec,
} from './encoders/codec-probe.js';
export {
  WorkerVideoEncoder,
  type WorkerVideoEncoderEvents,
  type WorkerVideoEncoderOptions,
} from './encoders/worker-video-encoder.js';

// ④ outputs
export {
  Recorder,
  type RecordOptions,
  type RecorderAudioCodec,
  type RecorderContainer,
  type RecorderEvents,
  type RecorderOptions,
  type RecorderStats,
} from './outputs/recorder.js';
export type { RecorderTarget, RecordingOutput, UploadReceipt } from './outputs/recording-target.js';
export type { RecoveredRecording } from './outputs/recording-recovery.js';
export { HttpUploadWriter, type HttpUploadOptions } from './outputs/http-upload-writer.js';
export {
  Packager,
  type PackageResult,
  type PackagerEvents,
  type PackagerProgress,
} from './outputs/packager/packager.js';
export type {
  PackagerFormat,
  PackagerOptions,
  PackagerRendition,
  PackagerVideoCodec,
} from './outputs/packager/packager-options.js';
export type { PackagerTarget } from './outputs/packager/package-writer.js';
export type { OriginUploadTarget, OriginUrlFunction } from './outputs/packager/origin-upload-writer.js';

// ⑤ playback
export { Player, type PlayerEvents, type PlayerOptions, type PlayerRendition } from './playback/player.js';
// ④ network
export * from './peers/index.js';
export type {
  IceServer,
  PeerInfo,
  PeerRole,
  ServerMessage,
  ClientMessage,
  SignalPayload,
  WelcomeMessage,
} from '@framewire/signaling/protocol';
