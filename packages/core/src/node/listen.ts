import type { Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { FramewireError } from '../framewire-error.js';

/**
 * Starts `server` (HTTP or plain TCP) on `host`:`port` (port 0 picks a free one) and resolves with the bound port.
 * Rejects with `FW_ERR_LISTEN_FAILED` (port in use, permission denied, bad host) instead of crashing.
 */
export function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        new FramewireError(
          'FW_ERR_LISTEN_FAILED',
          `Cannot listen on ${host}:${port} (${error.code ?? error.message})`,
          {
            cause: error,
            fatal: true,
            stage: 'listen',
            details: { host, port },
          },
        ),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes `server`, ending idle keep-alive connections at once and open ones after `graceMs` (default 2000). */
export function closeServer(server: Server, graceMs = 2000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
