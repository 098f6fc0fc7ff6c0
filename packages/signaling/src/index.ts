/**
 * framewire's signaling server: introduces peers (rooms, tokens, ICE/TURN credentials, scale-out over Redis).
 * @packageDocumentation
 */
export { SignalingServer } from './signaling-server.js';
export type { SignalingServerOptions } from './signaling-options.js';
export { TokenAuthority, MIN_SECRET_LENGTH, MAX_TOKEN_TTL_S } from './token-authority.js';
export { assertTlsOptions, readTlsFiles, type TlsOptions } from '@framewire/core/node';
export type { SignalingTlsOptions } from './signaling-options.js';
export { TokenBucket } from './token-bucket.js';
export { turnRestCredentials, type TurnRestOptions } from './turn-credentials.js';
export { MemoryRoomBus } from './bus/memory-room-bus.js';
export { RedisRoomBus, type RedisRoomBusOptions } from './bus/redis-room-bus.js';
export type { BusEvent, BusHandler, PeerRecord, RoomBus } from './bus/room-bus.js';
export * from './protocol.js';
export { FramewireError, ERROR_CODES, setLogLevel, type ErrorCode, type LogLevel } from '@framewire/core';
export { VERSION } from './version.js';
