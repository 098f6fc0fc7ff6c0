/**
 * Every stable error code of every framewire package, with a one-line summary.
 *
 * Codes never change meaning once published; each has a page at `docs/errors/<CODE>.md` (checked by `npm test`).
 */
export const ERROR_CODES = {
  FW_ERR_INVALID_OPTION: 'An option passed to a constructor, function or CLI is missing, malformed or out of range.',
  FW_ERR_NOT_SUPPORTED: 'This browser or runtime lacks an API the feature needs.',
  FW_ERR_INSECURE_CONTEXT:
    'The page is not a secure context (https or localhost), so WebCodecs and getUserMedia are hidden.',
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
  // stabilization
  FW_ERR_FRAME_UNUSABLE: 'A frame given to a transform was already closed or empty; it was skipped.',
  // capture and recording
  FW_ERR_MEDIA_UNREADABLE:
    'A file or stream is not media that can be read: unknown container, no video track, truncated or corrupt data.',
  FW_ERR_DECODE_FAILED: 'A decoder failed on the media data (corrupt or unsupported bitstream).',
  FW_ERR_NETWORK_FAILED: 'A URL could not be fetched: connection refused, or an HTTP error status such as 404 or 500.',
  FW_ERR_STREAM_STALLED: 'A live stream delivered no frame for longer than its stall timeout.',
  FW_ERR_FRAME_SIZE_CHANGED: 'A frame of a different size reached a recorder that was told to refuse size changes.',
  FW_ERR_WRITE_FAILED: 'Writing a recording to its target failed (storage full, file locked, upload refused).',
  // packaging
  FW_ERR_SOURCE_ENDED_EARLY:
    'A source ended before the packager could finish: no frame at all, or a file that stops well before its stated duration.',
  FW_ERR_TIMESTAMP_NOT_MONOTONIC: 'A frame whose timestamp does not increase reached the packager; it was dropped.',
  // node bridge
  FW_ERR_UNAUTHORIZED: 'An access token (bridge or signaling) is missing, malformed, forged or expired.',
  FW_ERR_PROTOCOL_VIOLATION:
    'A peer sent a message that breaks the wire protocol (malformed header, wrong dtype or shape, bad JSON).',
  FW_ERR_FRAME_TOO_LARGE: 'A frame or message is larger than the configured limit.',
  FW_ERR_CONNECTION_FAILED: 'A network peer could not be reached, stopped answering, or closed the connection.',
  FW_ERR_CAPACITY_REACHED:
    'A server already serves its maximum number of sessions; it refused a new one (try again later or elsewhere).',
  FW_ERR_SDP_INVALID:
    'A WebRTC offer sent to the bridge is not a usable SDP: not SDP at all, no video section, or the wrong direction.',
  FW_ERR_UNSUPPORTED_MEDIA_TYPE:
    'A request body has a content type the endpoint does not take (WHIP/WHEP: application/sdp, trickle-ice-sdpfrag).',
  FW_ERR_PROBE_FAILED:
    "ffprobe could not read a source's input in time; the bridge decodes it instead of passing it through.",
  FW_ERR_FILTER_REJECTED:
    "ffmpeg rejected a source's filtergraph (`#vf=`): an unknown filter or a bad option value; the source failed.",
  FW_ERR_NOT_FOUND: 'The addressed resource does not exist: an unknown source, or a WebRTC session that ended.',
  FW_ERR_PATH_INVALID:
    'A requested file name is malformed or leaves its directory (path traversal); only listed names are served.',
  // mqtt and shared memory
  FW_ERR_SHM_INVALID:
    'A shared-memory frame buffer file has the wrong magic, an unknown version or a truncated header.',
  FW_ERR_MQTT_REFUSED: 'The MQTT broker refused the connection: bad credentials, or the client is not authorised.',
  FW_ERR_MQTT_PAYLOAD_INVALID:
    'An MQTT message is not a frame: malformed header, unknown codec, or larger than the size limit.',
  // signaling and peers
  FW_ERR_FORBIDDEN: 'The peer asked for something its token or origin does not grant.',
  FW_ERR_BAD_MESSAGE: 'A message on the wire is malformed: not JSON, wrong types, or an unknown type.',
  FW_ERR_MESSAGE_TOO_LARGE: 'A message exceeds the size limit of its channel.',
  FW_ERR_RATE_LIMITED: 'A client sent messages faster than the server allows.',
  FW_ERR_ROOM_FULL: 'The room already holds its maximum number of peers.',
  FW_ERR_PEER_NOT_FOUND: "The addressed peer is not in the sender's room.",
  FW_ERR_TIMEOUT: 'An operation did not complete in time (a reply, a join, a heartbeat, a connection).',
  FW_ERR_SIGNALING_FAILED: 'The connection to the signaling server failed or was lost and could not be re-established.',
  FW_ERR_PEER_CONNECTION_FAILED: 'A WebRTC connection to a peer failed and ICE restarts did not recover it.',
  FW_ERR_JANUS_REFUSED:
    'The Janus gateway refused a request: a wrong or missing API secret, a missing plugin, or a mountpoint it would not create or serve.',
  FW_ERR_NEEDS_ROOT: 'The command changes the system (files in /etc, systemctl) and must run as root, e.g. with sudo.',
  FW_ERR_WEBHOOK_FAILED:
    "A webhook (such as the bridge's motion webhook) could not be delivered: connection refused, timeout, or an HTTP error status, after every retry.",
} as const;

/** A stable error code such as `FW_ERR_PERMISSION_DENIED`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is one of the known {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
