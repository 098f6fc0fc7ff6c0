import { FramewireError, type ErrorCode } from '@framewire/core';

const codeByDomExceptionName: Record<string, ErrorCode> = {
  NotAllowedError: 'FW_ERR_PERMISSION_DENIED',
  SecurityError: 'FW_ERR_PERMISSION_DENIED',
  NotFoundError: 'FW_ERR_DEVICE_NOT_FOUND',
  NotReadableError: 'FW_ERR_DEVICE_BUSY',
  AbortError: 'FW_ERR_DEVICE_BUSY',
  OverconstrainedError: 'FW_ERR_CONSTRAINTS_UNSATISFIABLE',
  TypeError: 'FW_ERR_INVALID_OPTION',
};

/**
 * Maps a `getUserMedia`/`getDisplayMedia` failure to a fatal {@link FramewireError} with a stable code, keeping
 * the original as `cause`. `what` names the device for the message, e.g. `camera`.
 */
export function mediaDeviceError(error: unknown, what: string): FramewireError {
  if (error instanceof FramewireError) return error;
  const name = error instanceof Error ? error.name : '';
  const code = codeByDomExceptionName[name] ?? 'FW_ERR_DEVICE_BUSY';
  const constraint = (error as { constraint?: string } | null)?.constraint;
  const detail = error instanceof Error && error.message ? `: ${error.message}` : '';
  const message =
    code === 'FW_ERR_CONSTRAINTS_UNSATISFIABLE'
      ? `The ${what} cannot satisfy the constraint "${constraint ?? 'unknown'}"${detail}`
      : `Cannot open the ${what} (${name || 'unknown error'})${detail}`;
  return new FramewireError(code, message, {
    cause: error,
    fatal: true,
    stage: 'capture',
    details: constraint ? { constraint } : {},
  });
}
