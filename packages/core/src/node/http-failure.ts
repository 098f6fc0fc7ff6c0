import { FramewireError } from '../framewire-error.js';

/**
 * A request a server refuses: a {@link FramewireError} with the HTTP status to answer (`400`, `404`, `415`, …).
 * {@link sendError} writes it as the `HttpErrorBody` `{ "error": { "code": code, "message": message } }`.
 */
export class HttpFailure extends FramewireError {
  /** The HTTP status code of the response. */
  readonly status: number;

  /** `status` and the {@link FramewireError} arguments (code, message, details). */
  constructor(status: number, ...args: ConstructorParameters<typeof FramewireError>) {
    super(...args);
    this.status = status;
  }

  /**
   * Matches a framewire error that carries an HTTP status (from this copy of the package or another one). Without
   * this, `instanceof HttpFailure` would inherit {@link FramewireError}'s check and match every framewire error.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof FramewireError && typeof (value as { status?: unknown }).status === 'number';
  }
}
