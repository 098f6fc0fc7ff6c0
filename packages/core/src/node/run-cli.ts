import { FramewireError } from '../framewire-error.js';
import { createLogger, setLogLevel, LOG_LEVELS, type LogLevel } from '../logger.js';

/** Something a CLI started and must stop on SIGINT/SIGTERM. */
export interface Stoppable {
  /** Stops gracefully; resolves when done. */
  close(): Promise<void>;
}

/**
 * Applies a `--log-level` value (or `FRAMEWIRE_LOG_LEVEL` when `text` is undefined; `info` when both are).
 * Throws `FW_ERR_INVALID_OPTION` on an unknown level.
 */
export function applyCliLogLevel(text: string | undefined): void {
  const level = text ?? process.env['FRAMEWIRE_LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new FramewireError(
      'FW_ERR_INVALID_OPTION',
      `--log-level must be one of ${LOG_LEVELS.join(', ')}; got ${level}`,
    );
  }
  setLogLevel(level as LogLevel);
}

/**
 * Runs a server CLI: calls `start`, and on SIGINT/SIGTERM closes what it returned and exits with code 0.
 * A {@link FramewireError} while starting prints `name: code: message` and exits with code 2 (bad option) or 1
 * (anything else): a user mistake never prints a stack trace.
 */
export async function runCli(name: string, start: () => Promise<Stoppable>): Promise<void> {
  const log = createLogger(name);
  try {
    const running = await start();
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received, shutting down`);
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error('shutdown failed', { error });
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (error) {
    if (error instanceof FramewireError) {
      process.stderr.write(`${name}: ${error.code}: ${error.message}\n`);
      process.exit(error.code === 'FW_ERR_INVALID_OPTION' ? 2 : 1);
    }
    throw error;
  }
}
