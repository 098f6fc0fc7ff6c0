import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { FramewireError, createLogger } from '@framewire/core';
import { applyCliLogLevel, readTlsFiles, runCli } from '@framewire/core/node';
import { PEER_ROLES, type IceServer, type PeerRole } from './protocol.js';
import type { SignalingServerOptions } from './signaling-options.js';
import { SignalingServer } from './signaling-server.js';
import { TokenAuthority } from './token-authority.js';
import { VERSION } from './version.js';

const USAGE = `Usage: framewire-signaling [options]
       framewire-signaling token --secret <secret> --room <room> --role <role> [--sub <id>] [--ttl <seconds>]

Introduces framewire peers. Endpoints: /health, /metrics, /ws (WebSocket), /dev/token (with --dev-tokens).

Options:
  --host <address>             interface to bind (default 127.0.0.1)
  --port <number>              TCP port, 0 for any free port (default 8443)
  --secret <secret>            HMAC secret that signs tokens, ≥ 16 characters (default: a random one, printed
                               as a warning: tokens then come only from /dev/token)
  --tls-cert <pem file>        certificate chain: serve https and wss on --port (with --tls-key)
  --tls-key <pem file>         the certificate's private key
  --allowed-origin <origin>    browser origin allowed to connect (repeat; '*' allows any: development only)
  --stun <url>                 STUN server handed to clients (repeat)
  --turn-url <url>             TURN server handed to clients with time-limited credentials (repeat)
  --turn-secret <secret>       coturn's static-auth-secret (use-auth-secret)
  --turn-ttl <seconds>         TURN credential lifetime (default 86400)
  --redis <url>                redis://host:port to share rooms with other processes (default: in memory)
  --max-peers-per-room <n>     default 50
  --max-message-bytes <n>      default 65536
  --messages-per-second <n>    per connection, default 50 (burst twice that)
  --max-connections-per-ip <n> default 100
  --resume-grace-ms <n>        how long a vanished peer's id can be resumed (default 15000)
  --join-timeout-ms <n>        a socket must join within this time (default 10000)
  --node-ttl-ms <n>            with --redis: a process silent this long counts as crashed, its peers are
                               removed after the resume grace (default 15000)
  --dev-tokens                 serve POST /dev/token (anyone who reaches the server gets tokens: development only)
  --log-level <level>          debug, info, warn, error or silent (default info)
  --version                    print the version
  --help                       print this help

Environment: FRAMEWIRE_SIGNALING_PORT, FRAMEWIRE_SIGNALING_HOST, FRAMEWIRE_SIGNALING_SECRET,
FRAMEWIRE_SIGNALING_TLS_CERT, FRAMEWIRE_SIGNALING_TLS_KEY, FRAMEWIRE_TURN_SECRET, FRAMEWIRE_REDIS_URL and
FRAMEWIRE_LOG_LEVEL set defaults.`;

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  secret: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'allowed-origin': { type: 'string', multiple: true },
  stun: { type: 'string', multiple: true },
  'turn-url': { type: 'string', multiple: true },
  'turn-secret': { type: 'string' },
  'turn-ttl': { type: 'string' },
  redis: { type: 'string' },
  'max-peers-per-room': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'messages-per-second': { type: 'string' },
  'dev-tokens': { type: 'boolean' },
  'resume-grace-ms': { type: 'string' },
  'node-ttl-ms': { type: 'string' },
  'join-timeout-ms': { type: 'string' },
  'max-connections-per-ip': { type: 'string' },
  room: { type: 'string' },
  role: { type: 'string' },
  sub: { type: 'string' },
  ttl: { type: 'string' },
  'log-level': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function invalid(message: string): FramewireError {
  return new FramewireError('FW_ERR_INVALID_OPTION', message);
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw invalid(`--${name} must be a whole number; got ${text}`);
  return value;
}

await runCli('framewire-signaling', async () => {
  let parsed;
  try {
    parsed = parseArgs({ options, strict: true, allowPositionals: true });
  } catch (error) {
    throw invalid(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help || values.version) {
    process.stdout.write(`${values.help ? USAGE : VERSION}\n`);
    process.exit(0);
  }
  applyCliLogLevel(values['log-level']);
  const secret = values.secret ?? process.env['FRAMEWIRE_SIGNALING_SECRET'];
  if (positionals[0] === 'token') {
    if (!secret) throw invalid('token: --secret (or FRAMEWIRE_SIGNALING_SECRET) is required');
    const role = values.role ?? 'viewer';
    if (!PEER_ROLES.includes(role as PeerRole)) throw invalid(`--role must be one of ${PEER_ROLES.join(', ')}`);
    if (!values.room) throw invalid('token: --room is required');
    const request: Parameters<TokenAuthority['issue']>[0] = { room: values.room, role: role as PeerRole };
    const ttlS = integer('ttl', values.ttl);
    if (ttlS !== undefined) request.ttlS = ttlS;
    if (values.sub !== undefined) request.sub = values.sub;
    process.stdout.write(`${await new TokenAuthority(secret).issue(request)}\n`);
    process.exit(0);
  }
  if (positionals.length > 0) throw invalid(`unknown command ${positionals[0]}\n\n${USAGE}`);
  const port = Number(values.port ?? process.env['FRAMEWIRE_SIGNALING_PORT'] ?? 8443);
  const host = values.host ?? process.env['FRAMEWIRE_SIGNALING_HOST'] ?? '127.0.0.1';
  const config: SignalingServerOptions = {
    host,
    port,
    secret: secret ?? randomBytes(32).toString('base64url'),
    allowedOrigins: values['allowed-origin'] ?? [],
    devTokens: values['dev-tokens'] ?? false,
  };
  const tlsCert = values['tls-cert'] ?? process.env['FRAMEWIRE_SIGNALING_TLS_CERT'];
  const tlsKey = values['tls-key'] ?? process.env['FRAMEWIRE_SIGNALING_TLS_KEY'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw invalid('--tls-cert and --tls-key go together (or FRAMEWIRE_SIGNALING_TLS_CERT and _KEY)');
  }
  if (tlsCert !== undefined && tlsKey !== undefined) config.tls = await readTlsFiles(tlsCert, tlsKey);
  const iceServers: IceServer[] = (values.stun ?? []).map((url) => ({ urls: [url] }));
  if (iceServers.length > 0) config.iceServers = iceServers;
  const turnSecret = values['turn-secret'] ?? process.env['FRAMEWIRE_TURN_SECRET'];
  if (values['turn-url']?.length) {
    if (!turnSecret) throw invalid('--turn-url needs --turn-secret (or FRAMEWIRE_TURN_SECRET)');
    config.turn = { urls: values['turn-url'], secret: turnSecret };
    const ttlS = integer('turn-ttl', values['turn-ttl']);
    if (ttlS !== undefined) config.turn.ttlS = ttlS;
  }
  const redisUrl = values.redis ?? process.env['FRAMEWIRE_REDIS_URL'];
  if (redisUrl) config.redisUrl = redisUrl;
  const maxPeersPerRoom = integer('max-peers-per-room', values['max-peers-per-room']);
  if (maxPeersPerRoom !== undefined) config.maxPeersPerRoom = maxPeersPerRoom;
  const maxMessageBytes = integer('max-message-bytes', values['max-message-bytes']);
  if (maxMessageBytes !== undefined) config.maxMessageBytes = maxMessageBytes;
  const messagesPerSecond = integer('messages-per-second', values['messages-per-second']);
  if (messagesPerSecond !== undefined) {
    config.messagesPerSecond = messagesPerSecond;
    config.messageBurst = messagesPerSecond * 2;
  }
  const maxConnectionsPerIp = integer('max-connections-per-ip', values['max-connections-per-ip']);
  if (maxConnectionsPerIp !== undefined) config.maxConnectionsPerIp = maxConnectionsPerIp;
  const resumeGraceMs = integer('resume-grace-ms', values['resume-grace-ms']);
  if (resumeGraceMs !== undefined) config.resumeGraceMs = resumeGraceMs;
  const nodeTtlMs = integer('node-ttl-ms', values['node-ttl-ms']);
  if (nodeTtlMs !== undefined) config.nodeTtlMs = nodeTtlMs;
  const joinTimeoutMs = integer('join-timeout-ms', values['join-timeout-ms']);
  if (joinTimeoutMs !== undefined) config.joinTimeoutMs = joinTimeoutMs;
  const server = await SignalingServer.start(config);
  if (!secret) {
    createLogger('framewire-signaling').warn(
      'no --secret given: using a random one for this run (tokens only from /dev/token with --dev-tokens)',
    );
  }
  return server;
});
