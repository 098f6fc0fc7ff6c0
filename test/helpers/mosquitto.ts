/** Starts a real mosquitto broker on 127.0.0.1 for a test: a TCP listener and an MQTT-over-WebSocket listener. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir, waitUntil } from './node.js';
import { makeCertificates } from './tls-certificates.js';

/** A running broker. */
export interface Mosquitto {
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>` (MQTT over WebSocket, for browsers). */
  wsUrl: string;
  /** With `tls`: `mqtts://127.0.0.1:<port>`, a TLS listener whose certificate `caPem` signed. */
  tlsUrl?: string;
  /** With `tls`: the test CA's certificate (PEM) that verifies the broker. */
  caPem?: string;
  /** Stops the broker (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same ports (after `stop()`), to test reconnection. */
  restart(): Promise<void>;
  /** Stops the broker and removes its configuration folder. */
  close(): Promise<void>;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Users allowed to connect (anonymous access is then refused). Default: anonymous access. */
  users?: Record<string, string>;
  /** Also listen with TLS, on a certificate for 127.0.0.1 signed by a test CA made here with openssl. */
  tls?: boolean;
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released: mosquitto cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts mosquitto (`/usr/sbin/mosquitto`, or `MOSQUITTO_PATH`) with a generated config on loopback ports. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await tempDir();
  const [port, wsPort] = [await freePort(), await freePort()];
  const config = [
    'persistence false',
    'log_dest stderr',
    'log_type error',
    `listener ${port} 127.0.0.1`,
    'protocol mqtt',
    `listener ${wsPort} 127.0.0.1`,
    'protocol websockets',
    'max_packet_size 33554432',
  ];
  const tlsPort = options.tls ? await freePort() : undefined;
  if (tlsPort !== undefined) {
    await makeCertificates(dir.path);
    // mosquitto drops to its own user before reading them.
    await chmod(dir.path, 0o755);
    for (const file of ['ca.pem', 'server.pem', 'server.key']) await chmod(join(dir.path, file), 0o644);
    config.push(
      `listener ${tlsPort} 127.0.0.1`,
      'protocol mqtt',
      `cafile ${join(dir.path, 'ca.pem')}`,
      `certfile ${join(dir.path, 'server.pem')}`,
      `keyfile ${join(dir.path, 'server.key')}`,
    );
  }
  if (options.users) {
    const passwords = join(dir.path, 'passwords');
    await writeFile(passwords, '');
    for (const [user, password] of Object.entries(options.users)) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('/usr/bin/mosquitto_passwd', ['-b', passwords, user, password], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_passwd exited ${code}`))));
      });
    }
    // Started as root, mosquitto drops to its own user before reading the password file.
    await chmod(dir.path, 0o755);
    await chmod(passwords, 0o644);
    config.push('allow_anonymous false', `password_file ${passwords}`);
  } else config.push('allow_anonymous true');
  // per_listener_settings false (default): the security settings apply to both listeners.
  const configPath = join(dir.path, 'mosquitto.conf');
  await writeFile(configPath, config.join('\n') + '\n');
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const broker = spawn(process.env['MOSQUITTO_PATH'] ?? '/usr/sbin/mosquitto', ['-c', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = broker;
    broker.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    await waitUntil(
      async () =>
        broker.exitCode === null &&
        (await portOpen(port)) &&
        (await portOpen(wsPort)) &&
        (tlsPort === undefined || (await portOpen(tlsPort))),
      `mosquitto listening on ${port} and ${wsPort} (${stderr})`,
    );
  };
  const stop = async (): Promise<void> => {
    const broker = child;
    child = undefined;
    if (broker?.exitCode !== null) return;
    const exited = new Promise((resolve) => broker.once('close', resolve));
    broker.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    ...(tlsPort === undefined
      ? {}
      : { tlsUrl: `mqtts://127.0.0.1:${tlsPort}`, caPem: await readFile(join(dir.path, 'ca.pem'), 'utf8') }),
    stop: async () => {
      await stop();
    },
    restart: start,
    close: async () => {
      await stop();
      await dir.remove();
    },
  };
}
