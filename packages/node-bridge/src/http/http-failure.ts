import { FramewireError } from '@framewire/core';

/**
 * A request the bridge refuses: a {@link FramewireError} with the HTTP status to answer (`400`, `404`, `415`, …).
 * The response body is `{ "error": code, "message": message }`.
 */
export class HttpFailure extends FramewireError {
  /** The HTTP status code of the response. */
  readonly status: number;

  /** `status` and the {@link FramewireError} arguments (code, message, details). */
  constructor(status: number, ...args: ConstructorParameters<typeof FramewireError>) {
    super(...args);
    this.status = status;
  }
}
