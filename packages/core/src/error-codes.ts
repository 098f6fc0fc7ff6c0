/**
 * Every stable error code of every framewire package, with a one-line summary.
 *
 * Codes never change meaning once published; each has a page at `docs/errors/<CODE>.md` (checked by `npm test`).
 */
export const ERROR_CODES = {
  FW_ERR_INVALID_OPTION: 'An option passed to a constructor, function or CLI is missing, malformed or out of range.',
  FW_ERR_NOT_SUPPORTED: 'This browser or runtime lacks an API the feature needs.',
  FW_ERR_PERMISSION_DENIED: 'The user or the browser policy refused access to a camera, microphone or screen.',
  FW_ERR_DEVICE_NOT_FOUND: 'No capture device matches the request.',
  FW_ERR_DEVICE_BUSY:
    'The capture device exists but cannot be opened (in use by another program, or a hardware fault).',
  FW_ERR_CONSTRAINTS_UNSATISFIABLE: 'The device cannot satisfy the requested size, frame rate or other constraint.',
  FW_ERR_CLOSED: 'The object was closed; the operation cannot run any more.',
  FW_ERR_LAZY_LOAD_FAILED: 'An optional dependency (hls.js, dash.js, opencv.js or a worker) failed to load.',
  FW_ERR_CODEC_UNSUPPORTED: 'No available encoder or decoder supports the requested codec configuration.',
  FW_ERR_ENCODE_FAILED: 'The encoder failed while encoding frames.',
  FW_ERR_WORKER_FAILED: 'A Worker crashed or answered with an unexpected message.',
  FW_ERR_LISTEN_FAILED: 'A server could not listen on the requested host and port.',
  FW_ERR_PROCESS_FAILED: 'A child process (ffmpeg, a camera tool) could not start or exited unexpectedly.',
  // signaling and peers
  FW_ERR_UNAUTHORIZED: 'A signaling token is missing, malformed, forged or expired.',
  FW_ERR_FORBIDDEN: 'The peer asked for something its token or origin does not grant.',
  FW_ERR_BAD_MESSAGE: 'A message on the wire is malformed: not JSON, wrong types, or an unknown type.',
  FW_ERR_MESSAGE_TOO_LARGE: 'A message exceeds the size limit of its channel.',
  FW_ERR_RATE_LIMITED: 'A client sent messages faster than the server allows.',
  FW_ERR_ROOM_FULL: 'The room already holds its maximum number of peers.',
  FW_ERR_PEER_NOT_FOUND: "The addressed peer is not in the sender's room.",
  FW_ERR_TIMEOUT: 'An operation did not complete in time (a reply, a join, a heartbeat, a connection).',
  FW_ERR_SIGNALING_FAILED: 'The connection to the signaling server failed or was lost and could not be re-established.',
  FW_ERR_PEER_CONNECTION_FAILED: 'A WebRTC connection to a peer failed and ICE restarts did not recover it.',
} as const;

/** A stable error code such as `FW_ERR_PERMISSION_DENIED`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is one of the known {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
