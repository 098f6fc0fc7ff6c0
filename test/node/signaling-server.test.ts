import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { NodePeer } from '@framewire/node-bridge';
import { SignalingServer } from '@framewire/signaling';
import { isLoopbackCandidate } from '../helpers/ice-loopback.js';
import { settleWrtc, wrtc } from '../helpers/peers.js';
import { RawClient, startRedis, type Daemon, type Refusal } from '../helpers/signaling.js';
import { runCli, startCli, waitUntil } from '../helpers/node.js';

const SECRET = 'test-secret-0123456789abcdef';
const refusal = async (promise: Promise<unknown>): Promise<Refusal> => {
  try {
    await promise;
  } catch (error) {
    return error as Refusal;
  }
  throw new Error('expected the upgrade to be refused');
};

// wrtc must not meet the process teardown with objects still waiting for finalization (see settleWrtc).
after(() => settleWrtc());

describe('signaling server', () => {
  let server: SignalingServer;
  let url: string;
  const token = (room: string, role: 'publisher' | 'viewer' | 'admin' = 'publisher', sub?: string): Promise<string> =>
    server.tokens.issue({ room, role, ...(sub ? { sub } : {}) });

  before(async () => {
    server = await SignalingServer.start({
      port: 0,
      secret: SECRET,
      allowedOrigins: ['http://app.test'],
      iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
      turn: { urls: ['turn:127.0.0.1:3478'], secret: 'turn-secret', ttlS: 600 },
      maxPeersPerRoom: 3,
      resumeGraceMs: 1500,
      devTokens: true,
    });
    url = `ws://127.0.0.1:${server.port}/ws`;
  });
  after(() => server.close());

  it('joins rooms, announces presence and relays signals and JSON between peers of one room', async () => {
    const a = await RawClient.join(url, await token('r1', 'publisher', 'alice'), 'r1', { meta: { name: 'cam' } });
    const b = await RawClient.join(url, await token('r1', 'viewer'), 'r1');
    try {
      assert.deepEqual(b.welcome.peers, [
        { peerId: a.welcome.peerId, role: 'publisher', user: 'alice', meta: { name: 'cam' } },
      ]);
      assert.equal((await a.next('peer-joined')).peer.peerId, b.welcome.peerId);
      const turn = b.welcome.iceServers.find((s) => s.urls[0]?.startsWith('turn:'));
      assert.match(turn?.username ?? '', /^\d+:[0-9a-f-]{36}$/, 'time-limited TURN username');
      assert.ok(Number(turn!.username!.split(':')[0]) - Date.now() / 1000 <= 600);
      b.send({
        type: 'signal',
        to: a.welcome.peerId,
        payload: { kind: 'description', description: { type: 'offer', sdp: 'v=0' } },
      });
      const signal = await a.next('signal');
      assert.equal(signal.from, b.welcome.peerId);
      assert.deepEqual(signal.payload, { kind: 'description', description: { type: 'offer', sdp: 'v=0' } });
      a.send({ type: 'relay', to: b.welcome.peerId, data: { hello: [1, 2] } });
      assert.deepEqual((await b.next('relay')).data, { hello: [1, 2] });
      b.send({ type: 'ping', id: 7 });
      assert.equal((await b.next('pong')).id, 7);
      b.send({ type: 'leave' });
      assert.equal((await b.closed).code, 1000);
      assert.deepEqual((await a.next('peer-left')).reason, 'left');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses missing, forged, expired and alg-none tokens and foreign origins before the upgrade', async () => {
    const missing = await refusal(RawClient.open(url, undefined));
    assert.deepEqual([missing.status, missing.body.error.code], [401, 'FW_ERR_UNAUTHORIZED']);
    const forged = await new SignJWT({ room: 'r1', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-0123456789'));
    assert.equal((await refusal(RawClient.open(url, forged))).status, 401);
    const expired = await new SignJWT({ room: 'r1', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const expiredRefusal = await refusal(RawClient.open(url, expired));
    assert.deepEqual([expiredRefusal.status, expiredRefusal.body.error.message], [401, 'The token has expired']);
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ room: 'r1', role: 'admin', exp: 2e9 })}.`;
    assert.equal((await refusal(RawClient.open(url, none))).status, 401);
    assert.equal((await refusal(RawClient.open(url, 'not-a-jwt'))).status, 401);
    const good = await token('r1');
    const origin = await refusal(RawClient.open(url, good, { origin: 'http://evil.test' }));
    assert.deepEqual([origin.status, origin.body.error.code], [403, 'FW_ERR_FORBIDDEN']);
    const allowed = await RawClient.open(url, good, { origin: 'http://app.test' });
    await allowed.close();
    assert.match(server.metrics(), /upgrades_rejected_total\{reason="token-expired"\} 1/);
  });

  it('keeps rooms apart: no joining another room, no addressing its peers, viewers reach no viewer', async () => {
    const other = await RawClient.join(url, await token('other'), 'other');
    const v1 = await RawClient.join(url, await token('r2', 'viewer'), 'r2');
    const v2 = await RawClient.join(url, await token('r2', 'viewer'), 'r2');
    try {
      const payload = { kind: 'bye' };
      v1.send({ type: 'signal', to: other.welcome.peerId, payload });
      const notFound = await v1.next('error');
      assert.deepEqual([notFound.code, notFound.fatal], ['FW_ERR_PEER_NOT_FOUND', false]);
      v1.send({ type: 'signal', to: v2.welcome.peerId, payload });
      assert.equal((await v1.next('error')).code, 'FW_ERR_FORBIDDEN');
      v1.send({ type: 'kick', peerId: v2.welcome.peerId });
      assert.equal((await v1.next('error')).code, 'FW_ERR_FORBIDDEN');
      const intruder = await RawClient.open(url, await token('r2'));
      intruder.send({ type: 'join', room: 'other' });
      assert.equal((await intruder.next('error')).code, 'FW_ERR_FORBIDDEN');
      assert.equal((await intruder.closed).code, 4003);
      // Nobody else noticed anything.
      assert.equal(other.messages.length, 0);
      v2.send({ type: 'ping', id: 1 });
      await v2.next('pong');
    } finally {
      await Promise.all([other.close(), v1.close(), v2.close()]);
    }
  });

  it('rejects malformed JSON, wrong types, oversize messages and floods; the offender goes, the others stay', async () => {
    const bystander = await RawClient.join(url, await token('r3'), 'r3');
    try {
      const bad = await RawClient.join(url, await token('r3'), 'r3');
      for (const text of [
        '{not json',
        '[1,2]',
        JSON.stringify({ type: 'signal', to: 42, payload: {} }),
        JSON.stringify({ type: 'nope' }),
      ]) {
        bad.send(text);
        const error = await bad.next('error');
        assert.deepEqual([error.code, error.fatal], ['FW_ERR_BAD_MESSAGE', false], text);
      }
      bad.send('{"type":5}');
      assert.equal((await bad.next('error')).fatal, true);
      assert.equal((await bad.closed).code, 4000);

      const big = await RawClient.join(url, await token('r3'), 'r3');
      big.send({ type: 'relay', to: bystander.welcome.peerId, data: 'x'.repeat(70_000) });
      assert.equal((await big.closed).code, 1009);

      const flood = await RawClient.join(url, await token('r3'), 'r3');
      for (let i = 0; i < 300; i++) flood.send({ type: 'ping', id: i });
      assert.equal((await flood.next('error', (e) => e.code === 'FW_ERR_RATE_LIMITED')).fatal, false);
      assert.equal((await flood.closed).code, 4029);

      bystander.send({ type: 'ping', id: 99 });
      assert.equal((await bystander.next('pong')).id, 99);
      assert.equal(server.health.status, 'ok');
    } finally {
      await bystander.close();
    }
  });

  it('an admin kicks a peer: it is told and closed with 4010, the room hears it left', async () => {
    const admin = await RawClient.join(url, await token('r6', 'admin'), 'r6');
    const victim = await RawClient.join(url, await token('r6', 'viewer'), 'r6');
    const witness = await RawClient.join(url, await token('r6', 'publisher'), 'r6');
    try {
      admin.send({ type: 'kick', peerId: victim.welcome.peerId });
      assert.deepEqual([(await victim.next('error')).code, (await victim.closed).code], ['FW_ERR_FORBIDDEN', 4010]);
      const left = await witness.next('peer-left', (m) => m.peerId === victim.welcome.peerId);
      assert.equal(left.reason, 'kicked');
      admin.send({ type: 'kick', peerId: victim.welcome.peerId });
      assert.equal((await admin.next('error')).code, 'FW_ERR_PEER_NOT_FOUND');
    } finally {
      await Promise.all([admin.close(), witness.close()]);
    }
  });

  it('limits room size with FW_ERR_ROOM_FULL', async () => {
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await RawClient.join(url, await token('r4'), 'r4'));
    try {
      const late = await RawClient.open(url, await token('r4'));
      late.send({ type: 'join', room: 'r4' });
      assert.equal((await late.next('error')).code, 'FW_ERR_ROOM_FULL');
      assert.equal((await late.closed).code, 4009);
    } finally {
      await Promise.all(members.map((m) => m.close()));
    }
  });

  it('lets a vanished peer resume its id within the grace period, delivering what was sent meanwhile', async () => {
    const a = await RawClient.join(url, await token('r5', 'publisher', 'a'), 'r5');
    const b = await RawClient.join(url, await token('r5'), 'r5');
    try {
      a.ws.terminate();
      await a.closed;
      b.send({ type: 'relay', to: a.welcome.peerId, data: 'while you were away' });
      const resume = { peerId: a.welcome.peerId, resumeKey: a.welcome.resumeKey };
      const wrong = await RawClient.join(url, await token('r5', 'publisher', 'a'), 'r5', {
        resume: { ...resume, resumeKey: 'guess' },
      });
      assert.notEqual(wrong.welcome.peerId, a.welcome.peerId, 'a wrong resume key gets a new id');
      await wrong.close();
      const back = await RawClient.join(url, await token('r5', 'publisher', 'a'), 'r5', { resume });
      assert.deepEqual([back.welcome.peerId, back.welcome.resumed], [a.welcome.peerId, true]);
      assert.equal((await back.next('relay')).data, 'while you were away');
      assert.ok(!b.messages.some((m) => m.type === 'peer-left' && m.peerId === a.welcome.peerId));
      back.ws.terminate();
      const left = await b.next('peer-left', (m) => m.peerId === a.welcome.peerId, 60_000);
      assert.equal(left.reason, 'timeout');
    } finally {
      await b.close();
    }
  });

  it('serves /metrics and mints development tokens on POST /dev/token', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/dev/token`, {
      method: 'POST',
      body: JSON.stringify({ room: 'dev', role: 'viewer', ttlS: 60 }),
    });
    const { token: minted } = (await response.json()) as { token: string };
    const claims = await server.tokens.verify(minted);
    assert.deepEqual([claims.room, claims.role], ['dev', 'viewer']);
    const badRole = await fetch(`http://127.0.0.1:${server.port}/dev/token`, {
      method: 'POST',
      body: '{"room":"x","role":"god"}',
    });
    assert.equal(badRole.status, 400);
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(metrics, /^framewire_signaling_messages_relayed_total \d+$/m);
    assert.match(metrics, /framewire_signaling_errors_sent_total\{code="FW_ERR_BAD_MESSAGE"\} \d+/);
  });

  it('times out sockets that never join or go idle', async () => {
    // Two servers: a join that a busy machine delays past a short join timeout must not spoil the idle case.
    const quick = await SignalingServer.start({ port: 0, secret: SECRET, joinTimeoutMs: 200 });
    const sleepy = await SignalingServer.start({ port: 0, secret: SECRET, idleTimeoutMs: 300 });
    try {
      const t = await quick.tokens.issue({ room: 'x', role: 'viewer' });
      const mute = await RawClient.open(`ws://127.0.0.1:${quick.port}`, t);
      assert.equal((await mute.closed).code, 4008);
      const idle = await RawClient.join(
        `ws://127.0.0.1:${sleepy.port}`,
        await sleepy.tokens.issue({ room: 'x', role: 'viewer' }),
        'x',
      );
      assert.equal((await idle.closed).code, 4008);
      assert.equal(idle.messages.find((m) => m.type === 'error')?.type, 'error');
    } finally {
      await quick.close();
      await sleepy.close();
    }
  });

  it('closes a joined socket whose token expires during the session (4001)', async () => {
    const t = await server.tokens.issue({ room: 'expiring', role: 'viewer', ttlS: 4 });
    const peer = await RawClient.join(url, t, 'expiring');
    assert.equal((await peer.closed).code, 4001);
    const error = peer.messages.find((m) => m.type === 'error');
    assert.deepEqual(
      [error?.type === 'error' && error.code, error?.type === 'error' && error.message],
      ['FW_ERR_UNAUTHORIZED', 'the token expired'],
    );
  });

  it('a graceful shutdown tells peers to reconnect and closes them with 1012', async () => {
    const temporary = await SignalingServer.start({ port: 0, secret: SECRET, reconnectAfterMs: 250 });
    const t = await temporary.tokens.issue({ room: 'x', role: 'viewer' });
    const peer = await RawClient.join(`ws://127.0.0.1:${temporary.port}`, t, 'x');
    const closing = temporary.close();
    assert.equal((await peer.next('shutdown')).reconnectAfterMs, 250);
    assert.equal((await peer.closed).code, 1012);
    await closing;
    await temporary.close();
  });
});

describe('signaling server over Redis', () => {
  let redis: Daemon;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('two processes joined by redis-server share rooms: presence, relay, WebRTC peers across processes, room limits and resume', async () => {
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    const script = 'packages/signaling/bin/framewire-signaling.js';
    const args = [
      '--port',
      '0',
      '--secret',
      SECRET,
      '--redis',
      redisUrl,
      '--max-peers-per-room',
      '3',
      '--resume-grace-ms',
      '3000',
    ];
    const one = await startCli(script, args, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const two = await startCli(script, args, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const tokens = await SignalingServer.start({ port: 0, secret: SECRET });
    try {
      const mint = (role: 'publisher' | 'viewer'): Promise<string> => tokens.tokens.issue({ room: 'shared', role });
      const url1 = `ws://127.0.0.1:${one.match[1]}/ws`;
      const url2 = `ws://127.0.0.1:${two.match[1]}/ws`;
      const a = await RawClient.join(url1, await mint('publisher'), 'shared');
      const b = await RawClient.join(url2, await mint('viewer'), 'shared');
      assert.deepEqual(
        b.welcome.peers.map((p) => p.peerId),
        [a.welcome.peerId],
      );
      assert.equal((await a.next('peer-joined')).peer.peerId, b.welcome.peerId);
      b.send({
        type: 'signal',
        to: a.welcome.peerId,
        payload: {
          kind: 'candidate',
          candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' },
        },
      });
      assert.equal((await a.next('signal')).from, b.welcome.peerId);
      a.send({ type: 'relay', to: b.welcome.peerId, data: 'across processes' });
      assert.equal((await b.next('relay')).data, 'across processes');
      const c = await RawClient.join(url2, await mint('viewer'), 'shared');
      const d = await RawClient.open(url1, await mint('viewer'));
      d.send({ type: 'join', room: 'shared' });
      assert.equal((await d.next('error')).code, 'FW_ERR_ROOM_FULL', 'the limit counts peers of both processes');
      // Real peers on the two processes connect over WebRTC through the shared room.
      const mintFor = (room: string): Promise<string> => tokens.tokens.issue({ room, role: 'publisher' });
      const left = await NodePeer.open({
        url: url1,
        room: 'webrtc',
        token: await mintFor('webrtc'),
        wrtc,
        iceCandidateFilter: isLoopbackCandidate,
      });
      const right = await NodePeer.open({
        url: url2,
        room: 'webrtc',
        token: await mintFor('webrtc'),
        wrtc,
        iceCandidateFilter: isLoopbackCandidate,
      });
      try {
        const got: unknown[] = [];
        right.room.on('message', ({ data }) => got.push(data));
        await left.room.waitForPeer(right.peerId);
        await left.room.send('t', 'peer to peer across processes', { to: right.peerId });
        await waitUntil(() => got.includes('peer to peer across processes'), 'a data-channel message');
      } finally {
        await left.close();
        await right.close();
      }
      // b's process goes away gracefully; b resumes its id on the other process.
      const shutdown = b.next('shutdown');
      assert.equal(await two.stop(), 0);
      await shutdown;
      const back = await RawClient.join(url1, await mint('viewer'), 'shared', {
        resume: { peerId: b.welcome.peerId, resumeKey: b.welcome.resumeKey },
      });
      assert.deepEqual([back.welcome.peerId, back.welcome.resumed], [b.welcome.peerId, true]);
      a.send({ type: 'relay', to: b.welcome.peerId, data: 'found you' });
      assert.equal((await back.next('relay')).data, 'found you');
      // c did not come back: its id expires and a hears it left.
      await waitUntil(
        () => a.messages.some((m) => m.type === 'peer-left' && m.peerId === c.welcome.peerId),
        'c to time out',
        60_000,
      );
      await Promise.all([a.close(), back.close(), c.close()]);
    } finally {
      await tokens.close();
      await one.stop();
      await two.stop();
    }
  });

  it('a process killed without shutdown leaves no ghost peers: survivors hear them leave and their places free up', async () => {
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    const script = 'packages/signaling/bin/framewire-signaling.js';
    const args = ['--port', '0', '--secret', SECRET, '--redis', redisUrl, '--max-peers-per-room', '3'];
    // A short liveness TTL and resume grace keep the test quick.
    const fast = [...args, '--node-ttl-ms', '1500', '--resume-grace-ms', '1000'];
    const ready = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
    const doomed = await startCli(script, fast, ready);
    const survivor = await startCli(script, fast, ready);
    const tokens = await SignalingServer.start({ port: 0, secret: SECRET });
    const clients: RawClient[] = [];
    try {
      const mint = (room: string): Promise<string> => tokens.tokens.issue({ room, role: 'publisher' });
      const urlDoomed = `ws://127.0.0.1:${doomed.match[1]}/ws`;
      const urlSurvivor = `ws://127.0.0.1:${survivor.match[1]}/ws`;
      const join = async (
        url: string,
        room: string,
        extra = {},
      ): Promise<Awaited<ReturnType<typeof RawClient.join>>> => {
        const client = await RawClient.join(url, await mint(room), room, extra);
        clients.push(client);
        return client;
      };
      const a1 = await join(urlDoomed, 'crash');
      const a2 = await join(urlDoomed, 'crash');
      const s = await join(urlSurvivor, 'crash');
      for (let i = 0; i < 3; i++) await join(urlDoomed, 'orphan');
      const full = await RawClient.open(urlSurvivor, await mint('crash'));
      full.send({ type: 'join', room: 'crash' });
      assert.equal((await full.next('error')).code, 'FW_ERR_ROOM_FULL');

      assert.equal(await doomed.stop('SIGKILL'), null, 'killed, no graceful shutdown');
      // a1 resumes its id on the surviving process before anyone noticed the crash; a2 never comes back.
      const back = await join(urlSurvivor, 'crash', {
        resume: { peerId: a1.welcome.peerId, resumeKey: a1.welcome.resumeKey },
      });
      assert.deepEqual([back.welcome.peerId, back.welcome.resumed], [a1.welcome.peerId, true]);
      const left = await s.next('peer-left', (m) => m.peerId === a2.welcome.peerId, 60_000);
      assert.equal(left.reason, 'timeout');
      assert.ok(
        !s.messages.some((m) => m.type === 'peer-left' && m.peerId === a1.welcome.peerId),
        'the resumed peer did not leave',
      );
      // a2's place is free again.
      const newcomer = await join(urlSurvivor, 'crash');
      assert.deepEqual(
        newcomer.welcome.peers.map((p) => p.peerId).sort(),
        [a1.welcome.peerId, s.welcome.peerId].sort(),
      );

      // A room whose members all sat on the dead process, and that no surviving process sweeps, frees up too:
      // a join finds the dead process's peers, keeps them resumable for the grace period, then takes a place.
      const orphan = await waitUntil(
        async () => {
          try {
            return await join(urlSurvivor, 'orphan');
          } catch {
            return undefined;
          }
        },
        'a place in the room the dead process filled',
        60_000,
      );
      assert.deepEqual(orphan.welcome.peers, []);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await tokens.close();
      await doomed.stop();
      await survivor.stop();
    }
  });
});

describe('framewire-signaling token', () => {
  it('mints a token the server accepts, and refuses a bad role', async () => {
    const script = 'packages/signaling/bin/framewire-signaling.js';
    const result = await runCli(script, [
      'token',
      '--secret',
      SECRET,
      '--room',
      'cli',
      '--role',
      'admin',
      '--ttl',
      '60',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const server = await SignalingServer.start({ port: 0, secret: SECRET });
    try {
      const claims = await server.tokens.verify(result.stdout.trim());
      assert.deepEqual([claims.room, claims.role], ['cli', 'admin']);
    } finally {
      await server.close();
    }
    const bad = await runCli(script, ['token', '--secret', SECRET, '--room', 'cli', '--role', 'god']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /FW_ERR_INVALID_OPTION/);
  });
});

describe('signaling server options', () => {
  it('refuses a liveness TTL that is not a positive number, from code and from the CLI', async () => {
    await assert.rejects(SignalingServer.start({ port: 0, secret: SECRET, nodeTtlMs: 0 }), {
      code: 'FW_ERR_INVALID_OPTION',
      message: /options\.nodeTtlMs must be a number > 0/,
    });
    const bad = await runCli('packages/signaling/bin/framewire-signaling.js', [
      '--secret',
      SECRET,
      '--node-ttl-ms',
      'soon',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /FW_ERR_INVALID_OPTION.*--node-ttl-ms must be a whole number; got soon/s);
  });
});
