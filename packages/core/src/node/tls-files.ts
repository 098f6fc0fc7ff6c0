import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { FramewireError } from '../framewire-error.js';

/** TLS material of a framewire server (signaling, bridge, demo): it then serves https and wss on its one port. */
export interface TlsOptions {
  /** The certificate chain, PEM (the server's certificate first). */
  cert: string | Buffer;
  /** The certificate's private key, PEM (unencrypted). */
  key: string | Buffer;
}

function invalid(message: string, cause?: unknown): FramewireError {
  return new FramewireError('FW_ERR_INVALID_OPTION', message, { cause, fatal: true, stage: 'tls' });
}

/**
 * Checks that `tls` holds a PEM certificate and the private key that matches it (Node's own TLS parser reads
 * them). Throws `FW_ERR_INVALID_OPTION` naming the problem.
 */
export function assertTlsOptions(tls: TlsOptions, what = 'options.tls'): void {
  const pem = (value: unknown): boolean => typeof value === 'string' || Buffer.isBuffer(value);
  if (!pem((tls as Partial<TlsOptions> | null)?.cert) || !pem((tls as Partial<TlsOptions> | null)?.key)) {
    throw invalid(`${what} must be { cert, key } with PEM text`);
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (error) {
    throw invalid(`${what}: not a usable certificate and key (${(error as Error).message})`, error);
  }
}

/**
 * Reads a PEM certificate chain and its private key from files, and checks them with {@link assertTlsOptions}.
 * Rejects with `FW_ERR_INVALID_OPTION` naming the file that is missing or unreadable.
 */
export async function readTlsFiles(certPath: string, keyPath: string): Promise<TlsOptions> {
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw invalid(`cannot read the TLS ${what} file ${path} (${code})`, error);
    }
  };
  const tls = { cert: await read(certPath, 'certificate'), key: await read(keyPath, 'key') };
  assertTlsOptions(tls, `TLS certificate ${certPath} with key ${keyPath}`);
  return tls;
}
