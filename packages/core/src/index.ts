export { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';
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
