/** Janus (the Debian package) started by a test on loopback, with its own configuration folder. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from './node.js';

const JANUS = process.env['JANUS_PATH'] ?? '/usr/bin/janus';
const MODULES = '/usr/lib/x86_64-linux-gnu/janus';

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The three files the tests (and docs/guides/node-bridge.md) use: janus.jcfg (API secret, only the streaming plugin
 * and the HTTP transport, ICE on the loopback interface and no STUN server), janus.transport.http.jcfg (plain HTTP on
 * 127.0.0.1:`port`) and janus.plugin.streaming.jcfg (no mountpoints of its own: the bridge creates them).
 */
export function janusConfig(dir: string, port: number, apiSecret: string, turn: JanusTurn): Record<string, string> {
  return {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  plugins_folder = "${MODULES}/plugins"
  transports_folder = "${MODULES}/transports"
  events_folder = "${MODULES}/events"
  loggers_folder = "${MODULES}/loggers"
  api_secret = "${apiSecret}"
  session_timeout = 60
  debug_level = 4
}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  # No stun_server: nothing leaves the machine. Janus skips the loopback interface when it gathers (so
  # ice_enforce_list cannot keep 127.0.0.1), and headless Chromium gathers no loopback candidate either: they meet
  # through the coturn on 127.0.0.1, on relay candidates at 127.0.0.1, the only ones both sides keep. TURN over TCP:
  # Janus's TURN over UDP to 127.0.0.1 gets no answer here (its requests leave from the interface address).
  turn_server = "127.0.0.1"
  turn_port = ${turn.port}
  turn_type = "tcp"
  turn_user = "${turn.username}"
  turn_pwd = "${turn.credential}"
  ignore_mdns = true
}
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_videoroom.so,libjanus_voicemail.so"
}
transports: {
  disable = "libjanus_websockets.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
events: {
  broadcast = false
}
`,
    'janus.transport.http.jcfg': `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
`,
    'janus.plugin.streaming.jcfg': `general: {
}
`,
  };
}

/** The TURN server (coturn on 127.0.0.1) Janus relays through. */
export interface JanusTurn {
  /** Its UDP port on 127.0.0.1. */
  port: number;
  /** The TURN user name. */
  username: string;
  /** The TURN password. */
  credential: string;
}

/** A running Janus. */
export interface StartedJanus {
  /** Its HTTP API, e.g. `http://127.0.0.1:40123/janus`. */
  url: string;
  /** Everything it logged. */
  output(): string;
  /** Kills it (SIGKILL: a crash, as far as its sessions know). */
  kill(): Promise<void>;
  /** Starts it again with the same configuration and port. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM). */
  stop(): Promise<void>;
}

/**
 * Writes Janus's configuration into `dir` and starts `janus -C dir/janus.jcfg -F dir` on a free loopback port;
 * resolves once its HTTP API answers. Fails with a message naming scripts/setup.sh when janus is not installed.
 */
export async function startJanus(dir: string, apiSecret: string, turn: JanusTurn): Promise<StartedJanus> {
  if (!existsSync(JANUS)) throw new Error(`${JANUS} is missing: run scripts/setup.sh (it installs the janus package)`);
  const port = await freePort();
  for (const [name, text] of Object.entries(janusConfig(dir, port, apiSecret, turn)))
    await writeFile(join(dir, name), text);
  const url = `http://127.0.0.1:${port}/janus`;
  let output = '';
  let child: ChildProcessWithoutNullStreams | undefined;
  const launch = async (): Promise<void> => {
    const started = spawn(JANUS, ['-C', join(dir, 'janus.jcfg'), '-F', dir, '--disable-colors'], { stdio: 'pipe' });
    child = started;
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      async () => {
        if (started.exitCode !== null) throw new Error(`janus exited with ${started.exitCode}:\n${output}`);
        return fetch(`${url}/info`)
          .then((response) => response.ok)
          .catch(() => false);
      },
      `Janus answering at ${url}`,
      60_000,
    );
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running?.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    await exited;
  };
  await launch();
  return { url, output: () => output, kill: () => end('SIGKILL'), restart: launch, stop: () => end('SIGTERM') };
}
