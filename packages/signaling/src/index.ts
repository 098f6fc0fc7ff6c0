/**
 * framewire's signaling server: introduces peers.
 * @packageDocumentation
 */
export { SignalingServer, type SignalingServerOptions } from './signaling-server.js';
export { SIGNALING_PATHS, type SignalingHealth } from './protocol.js';
export { FramewireError, ERROR_CODES, setLogLevel, type ErrorCode, type LogLevel } from '@framewire/core';
export { VERSION } from './version.js';
