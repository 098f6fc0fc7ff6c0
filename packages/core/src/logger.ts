/// <reference path="./types/globals.d.ts" />
/** Log levels, from the most to the least verbose. `silent` turns logging off. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One log line as handed to a {@link LogSink}. */
export interface LogRecord {
  /** Severity of the record (never `silent`). */
  level: Exclude<LogLevel, 'silent'>;
  /** The component that logged, e.g. `camera-source` or `bridge`. */
  scope: string;
  /** Human-readable message. */
  message: string;
  /** Structured details (ids, sizes, the error). */
  details?: Record<string, unknown>;
  /** Wall-clock time of the record, in ms since the Unix epoch. */
  timeMs: number;
}

/** Receives every record at or above the current level. */
export type LogSink = (record: LogRecord) => void;

/** A scoped logger; each method drops its record when the level is below the global threshold. */
export interface Logger {
  /** Verbose diagnostics. */
  debug(message: string, details?: Record<string, unknown>): void;
  /** Lifecycle events worth seeing by default in servers. */
  info(message: string, details?: Record<string, unknown>): void;
  /** Something recovered or degraded. */
  warn(message: string, details?: Record<string, unknown>): void;
  /** Something failed. */
  error(message: string, details?: Record<string, unknown>): void;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** The console sink: `[framewire:scope] message {details}` on the matching console method. */
export const consoleSink: LogSink = ({ level, scope, message, details }) => {
  const line = `[framewire:${scope}] ${message}`;
  if (details === undefined) console[level](line);
  else console[level](line, details);
};

const state: { level: LogLevel; sink: LogSink } = { level: 'warn', sink: consoleSink };

/**
 * Sets the global log threshold (default `warn`) and, optionally, where records go (default: the console).
 * Throws `TypeError` when `level` is not one of {@link LOG_LEVELS}.
 */
export function setLogLevel(level: LogLevel, sink?: LogSink): void {
  if (!LOG_LEVELS.includes(level)) {
    throw new TypeError(`level must be one of ${LOG_LEVELS.join(', ')}; got ${level as string}`);
  }
  state.level = level;
  if (sink) state.sink = sink;
}

/** The current global log threshold. */
export function getLogLevel(): LogLevel {
  return state.level;
}

/** Returns a logger whose records carry `scope`; it honours later calls to {@link setLogLevel}. */
export function createLogger(scope: string): Logger {
  const write =
    (level: Exclude<LogLevel, 'silent'>) =>
    (message: string, details?: Record<string, unknown>): void => {
      if (rank[level] < rank[state.level]) return;
      const record: LogRecord = { level, scope, message, timeMs: Date.now() };
      if (details !== undefined) record.details = details;
      try {
        state.sink(record);
      } catch {
        // A broken sink must not take the pipeline down with it.
      }
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
