/**
 * framewire's Node companion: serves sources a browser cannot open to browsers.
 * @packageDocumentation
 */
export { BridgeServer, type BridgeServerOptions } from './bridge-server.js';
export { MjpegOutput } from './outputs/mjpeg-output.js';
export type { EncodedFrame } from './sources/encoded-frame.js';
export {
  FfmpegJpegSource,
  type FfmpegJpegSourceEvents,
  type FfmpegJpegSourceOptions,
} from './sources/ffmpeg-jpeg-source.js';
export { JpegStreamSplitter } from './sources/jpeg-stream-splitter.js';
export { createTestPatternSource, type TestPatternSourceOptions } from './sources/test-pattern-source.js';
export {
  MqttOutput,
  type EncodedFrameEmitter,
  type MqttOutputEvents,
  type MqttOutputOptions,
  type MqttOutputStats,
} from './outputs/mqtt-output.js';
export type { MqttConnectionOptions } from './outputs/mqtt-connection.js';
export { MqttWebSocketRelay, type MqttWebSocketRelayOptions } from './outputs/mqtt-websocket-relay.js';
export { MqttSource, type MqttSourceEvents, type MqttSourceOptions } from './sources/mqtt-source.js';
export { ShmFrameBuffer, type ShmFrameBufferEvents, type ShmFrameBufferOptions } from './outputs/shm-frame-buffer.js';
export { SHM_LAYOUT, SHM_STATUS, type ShmStatus } from './outputs/shm-frame-layout.js';
export { ShmFrameReader, type ShmFrame, type ShmFrameReaderOptions } from './sources/shm-frame-reader.js';
export {
  RAW_PIXEL_FORMATS,
  rawFrameBytes,
  type RawFrame,
  type RawFrameEmitter,
  type RawPixelFormat,
} from './sources/raw-frame.js';
export { BRIDGE_PATHS, type BridgeHealth, type SourceHealth, type SourceState } from './protocol.js';
export { FramewireError, ERROR_CODES, setLogLevel, type ErrorCode, type LogLevel } from '@framewire/core';
export { MQTT_FRAME, decodeMqttFrame, encodeMqttFrame, mqttFrameTopic, type MqttFrameMessage } from '@framewire/core';
export { VERSION } from './version.js';
