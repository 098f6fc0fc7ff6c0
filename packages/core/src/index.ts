export { backoffDelayMs } from './backoff-delay.js';
export { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';
export {
  NAL_TYPES,
  avcCodecOfSps,
  findSps,
  findSpsUnit,
  isKeyAccessUnit,
  nalType,
  parseSps,
  h264FrameType,
  splitNalUnits,
  type H264FrameType,
  type SpsInfo,
} from './h264-bitstream.js';
export { httpErrorBody, type HttpErrorBody } from './http-error-body.js';
export { FramewireError, assertOption, type FramewireErrorOptions } from './framewire-error.js';
export {
  LOG_LEVELS,
  consoleSink,
  createLogger,
  getLogLevel,
  setLogLevel,
  type LogLevel,
  type LogRecord,
  type LogSink,
  type Logger,
} from './logger.js';
export { TypedEmitter, type EventMap, type Listener } from './typed-emitter.js';
export {
  MQTT_DEFAULT_TOPIC_PREFIX,
  MQTT_FRAME,
  decodeMqttFrame,
  encodeMqttFrame,
  mqttClientError,
  mqttFrameTopic,
  validateMqttTopicAndTiming,
  type MqttFrameCodec,
  type MqttFrameMessage,
  type MqttTopicAndTiming,
} from './mqtt-frame-message.js';
export {
  MQTT_AUDIO,
  decodeMqttAudio,
  encodeMqttAudio,
  mqttAudioTopic,
  type MqttAudioMessage,
} from './mqtt-audio-message.js';
export {
  JanusHttpSession,
  pluginFailure,
  type JanusCandidate,
  type JanusEvent,
  type JanusFetch,
  type JanusFetchInit,
  type JanusHttpSessionOptions,
  type JanusJsep,
} from './janus-http-session.js';
