import { ERROR_CODES, type ErrorCode } from './error-codes.js';

const brand = Symbol.for('framewire.error');

/** Options of {@link FramewireError}. */
export interface FramewireErrorOptions {
  /** The underlying error (a DOMException, a Node system error, …). */
  cause?: unknown;
  /** True when the object that raised the error cannot continue. Default: `false`. */
  fatal?: boolean;
  /** The pipeline stage or component where it happened, e.g. `capture`, `encode`, `listen`. Default: `''`. */
  stage?: string;
  /** Structured details for logs and for callers that branch on them. */
  details?: Record<string, unknown>;
}

/**
 * The one error class of every framewire package. Callers branch on `code`, which is stable
 * (see `docs/errors/<code>.md`); `message` is for people and may change.
 *
 * `instanceof FramewireError` holds across two copies of the package (for example the IIFE bundle and an ESM
 * import on one page), because it checks a global symbol rather than the prototype chain.
 */
export class FramewireError extends Error {
  /** A stable code, e.g. `FW_ERR_DEVICE_BUSY`. */
  readonly code: ErrorCode;
  /** True when the object that raised the error cannot continue. */
  readonly fatal: boolean;
  /** The stage or component where the error happened (may be empty). */
  readonly stage: string;
  /** Structured details (may be empty). */
  readonly details: Record<string, unknown>;

  /** Creates an error with a stable `code`; the message defaults to the code's summary. */
  constructor(code: ErrorCode, message?: string, options: FramewireErrorOptions = {}) {
    super(message ?? ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FramewireError';
    this.code = code;
    this.fatal = options.fatal ?? false;
    this.stage = options.stage ?? '';
    this.details = options.details ?? {};
    Object.defineProperty(this, brand, { value: true });
  }

  /** Matches any framewire error, from this copy of the package or another one. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && brand in value;
  }

  /** A plain JSON form (for logs, worker messages and wire protocols). */
  toJSON(): { name: string; code: ErrorCode; message: string; fatal: boolean; stage: string } {
    return { name: this.name, code: this.code, message: this.message, fatal: this.fatal, stage: this.stage };
  }
}

/**
 * Throws `FW_ERR_INVALID_OPTION` naming the option path unless `condition` holds.
 *
 * @example `assertOption(width > 0, 'options.width must be > 0')`
 */
export function assertOption(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FramewireError('FW_ERR_INVALID_OPTION', message, { fatal: true, stage: 'options' });
}
