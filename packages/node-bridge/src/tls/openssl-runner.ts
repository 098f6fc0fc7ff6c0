import { spawn } from 'node:child_process';
import { FramewireError } from '@framewire/core';

/**
 * Runs the `openssl` command line tool (always installed on Raspberry Pi OS and Debian) with `args`, feeding it
 * `input` on stdin. Resolves with its stdout; rejects with `FW_ERR_PROCESS_FAILED` when it cannot start or exits
 * with an error (its stderr in the message).
 */
export function runOpenssl(args: string[], options: { openssl?: string; input?: string } = {}): Promise<string> {
  const command = options.openssl ?? 'openssl';
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.stdin.on('error', () => undefined);
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new FramewireError(
          'FW_ERR_PROCESS_FAILED',
          `cannot run ${command} (${error.code ?? error.message}): install it (apt-get install openssl) or pass --openssl <path>`,
          { cause: error, fatal: true, stage: 'tls' },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else {
        reject(
          new FramewireError('FW_ERR_PROCESS_FAILED', `${command} ${args[0] ?? ''} exited ${code}: ${stderr.trim()}`, {
            fatal: true,
            stage: 'tls',
          }),
        );
      }
    });
    child.stdin.end(options.input ?? '');
  });
}
