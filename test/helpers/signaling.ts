/** Helpers for signaling tests: raw protocol clients, redis-server and coturn on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import type { ServerMessage } from '@framewire/signaling/protocol';

/** A port that was free a moment ago (for servers that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The outcome of a WebSocket that could not open. */
export interface Refusal extends Error {
  status: number;
  body: { error: { code: string; message: string } };
}

/** A raw protocol client over `ws`, recording every server message. */
export class RawClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.messages.push(JSON.parse((data as Buffer).toString()) as ServerMessage);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const wake of this.#waiters.splice(0)) wake();
      }),
    );
  }

  /**
   * Opens a socket with `token` (as the subprotocol) and resolves once open; rejects with a {@link Refusal}.
   * `options` go to `ws` (`ca` for wss with a test CA).
   */
  static open(
    url: string,
    token: string | undefined,
    headers: Record<string, string> = {},
    options: ClientOptions = {},
  ): Promise<RawClient> {
    const protocols = ['framewire.v1', ...(token === undefined ? [] : [`framewire-token.${token}`])];
    const ws = new WebSocket(url, protocols, { ...options, headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += String(chunk)));
        response.on('end', () =>
          reject(
            Object.assign(new Error(`refused with ${response.statusCode}`), {
              status: response.statusCode,
              body: JSON.parse(body),
            }),
          ),
        );
      });
      ws.once('error', (error) => reject(error));
    });
  }

  /** Opens, joins `room` and resolves with the client and its welcome. */
  static async join(
    url: string,
    token: string,
    room: string,
    extra: Record<string, unknown> = {},
    options: ClientOptions = {},
  ): Promise<RawClient & { welcome: Extract<ServerMessage, { type: 'welcome' }> }> {
    const client = await RawClient.open(url, token, {}, options);
    client.send({ type: 'join', room, ...extra });
    const welcome = await client.next('welcome');
    return Object.assign(client, { welcome });
  }

  /** Sends a JSON object (or raw text). */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Resolves with the first recorded message of `type` matching `where` (consumed), waiting up to `timeoutMs`
   * (a deadline that only bounds a hang).
   */
  async next<T extends ServerMessage['type']>(
    type: T,
    where: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type && where(m as Extract<ServerMessage, { type: T }>));
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<ServerMessage, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no ${type} message (got ${JSON.stringify(this.messages.map((m) => m.type))})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

/** A program started by a test, stopped by `stop()`. */
export interface Daemon {
  port: number;
  stop(): Promise<void>;
}

async function waitOutput(child: ChildProcess, ready: RegExp, what: string): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready after 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += String(chunk);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)}:\n${output}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
}

/** Starts `/usr/bin/redis-server` on 127.0.0.1 and a free port, without persistence. */
export async function startRedis(): Promise<Daemon> {
  const port = await freePort();
  const child = spawn(
    process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'pipe' },
  );
  await waitOutput(child, /Ready to accept connections/, 'redis-server');
  return { port, stop: stopper(child) };
}

/** A coturn started by {@link startCoturn}: `restart()` starts it again on the same port after `stop()`. */
export interface Coturn extends Daemon {
  restart(): Promise<void>;
}

/**
 * Starts coturn (`/usr/bin/turnserver`) on 127.0.0.1 with `use-auth-secret`, relaying only on loopback.
 * Loopback peers are allowed here on purpose (`allow-loopback-peers`): in production they must stay denied.
 */
export async function startCoturn(secret: string): Promise<Coturn> {
  const port = await freePort();
  const minPort = 40_000 + Math.floor(Math.random() * 20_000);
  const args = [
    '-n',
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + 200}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=framewire.test',
    '--allow-loopback-peers',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-multicast-peers',
    '--log-file=stdout',
    '--simple-log',
    '--verbose',
  ];
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(process.env['TURNSERVER'] ?? '/usr/bin/turnserver', args, { stdio: 'pipe' });
    await waitOutput(child, /Total General servers|IPv4. UDP listener opened on : 127\.0\.0\.1/, 'turnserver');
    return child;
  };
  let child = await launch();
  return {
    port,
    stop: () => stopper(child)(),
    restart: async () => {
      child = await launch();
    },
  };
}
