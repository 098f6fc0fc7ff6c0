// Three framewire-signaling processes over one redis-server (started here, on loopback), 50 peers each: relays
// between peers of different processes, a process killed with SIGKILL (its peers leave every room, also rooms no
// surviving process has peers in), and a process started again in its place.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SignalingServer } from '@framewire/signaling';
import { RawClient, startRedis, type Daemon } from '../helpers/signaling.js';
import { startCli, waitUntil, type StartedCli } from '../helpers/node.js';

const SECRET = 'test-secret-0123456789abcdef';
const SCRIPT = 'packages/signaling/bin/framewire-signaling.js';
const READY = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const PER_PROCESS = 50;
/** Rooms of 30: each holds peers of the three processes. */
const ROOM_SIZE = 30;

type Joined = Awaited<ReturnType<typeof RawClient.join>> & { process: number; room: string };

describe('signaling across three processes over Redis', () => {
  let redis: Daemon;
  let redisUrl: string;
  let keys: Redis;
  let tokens: SignalingServer;
  const processes: (StartedCli & { url: string })[] = [];
  const peers: Joined[] = [];
  const others: RawClient[] = [];

  const startProcess = async (): Promise<StartedCli & { url: string }> => {
    // A short liveness TTL and resume grace keep the crash case quick.
    const args = ['--port', '0', '--secret', SECRET, '--redis', redisUrl, '--node-ttl-ms', '1500'];
    const started = await startCli(SCRIPT, [...args, '--resume-grace-ms', '1000'], READY);
    return Object.assign(started, { url: `ws://127.0.0.1:${started.match[1]}/ws` });
  };
  const join = async (process: number, room: string): Promise<Joined> => {
    const token = await tokens.tokens.issue({ room, role: 'publisher' });
    const client = Object.assign(await RawClient.join(processes[process]!.url, token, room), { process, room });
    peers.push(client);
    return client;
  };
  /** Member ids of `room` as Redis holds them. */
  const members = async (room: string): Promise<string[]> => (await keys.hkeys(`framewire:room:${room}`)).sort();

  before(async () => {
    redis = await startRedis();
    redisUrl = `redis://127.0.0.1:${redis.port}`;
    keys = new Redis(redisUrl);
    tokens = await SignalingServer.start({ port: 0, secret: SECRET });
    for (let i = 0; i < 3; i++) processes.push(await startProcess());
    // Peer i sits on process i % 3, in room i / ROOM_SIZE: every room mixes the three processes.
    for (let i = 0; i < 3 * PER_PROCESS; i++) await join(i % 3, `mixed-${Math.floor(i / ROOM_SIZE)}`);
  });

  after(async () => {
    await Promise.all([...peers, ...others].map((c) => c.close()));
    for (const started of processes) await started.stop();
    await tokens.close();
    keys.disconnect();
    await redis.stop();
  });

  it('holds 150 peers on three processes: presence across processes and relays between any two of them', async () => {
    for (const room of new Set(peers.map((p) => p.room))) {
      const inRoom = peers.filter((p) => p.room === room);
      assert.equal(inRoom.length, ROOM_SIZE);
      assert.deepEqual(await members(room), inRoom.map((p) => p.welcome.peerId).sort());
      // The last one to join was welcomed with every other member, wherever it sits.
      const last = inRoom.at(-1)!;
      assert.deepEqual(
        last.welcome.peers.map((p) => p.peerId).sort(),
        inRoom
          .slice(0, -1)
          .map((p) => p.welcome.peerId)
          .sort(),
      );
      // Each peer relays to its neighbour in the room, which sits on another process.
      inRoom.forEach((from, i) => {
        const to = inRoom[(i + 1) % inRoom.length]!;
        assert.notEqual(from.process, to.process);
        from.send({ type: 'relay', to: to.welcome.peerId, data: `from ${from.welcome.peerId}` });
      });
      for (const [i, to] of inRoom.entries()) {
        const fromId: string = inRoom[(i - 1 + inRoom.length) % inRoom.length]!.welcome.peerId;
        const relay = await to.next('relay', (m) => m.from === fromId);
        assert.equal(relay.data, `from ${fromId}`);
      }
    }
  });

  it('a process killed with SIGKILL leaves no ghost peers: they leave every room, also rooms only it held', async () => {
    // A room whose members all sit on the doomed process: no survivor has peers there to sweep it.
    for (let i = 0; i < 3; i++) others.push(await join(2, 'lonely'));
    assert.equal((await members('lonely')).length, 3);
    const doomed = peers.filter((p) => p.process === 2 && p.room !== 'lonely');
    assert.equal(await processes[2]!.stop('SIGKILL'), null, 'killed, no graceful shutdown');
    const survivors = peers.filter((p) => p.process !== 2);
    for (const survivor of survivors) {
      for (const gone of doomed.filter((d) => d.room === survivor.room)) {
        const left = await survivor.next('peer-left', (m) => m.peerId === gone.welcome.peerId, 60_000);
        assert.equal(left.reason, 'timeout');
      }
    }
    for (const room of new Set(survivors.map((p) => p.room))) {
      assert.deepEqual(
        await members(room),
        survivors
          .filter((p) => p.room === room)
          .map((p) => p.welcome.peerId)
          .sort(),
      );
    }
    await waitUntil(async () => (await members('lonely')).length === 0, 'the lonely room to empty', 60_000);
    // The dead process is forgotten once none of its peers is left.
    await waitUntil(
      async () => (await keys.scard('framewire:nodes')) === 2,
      'the dead process to be forgotten',
      60_000,
    );
  });

  it('a process started again in its place takes peers that meet and relay with the survivors', async () => {
    processes[2] = await startProcess();
    const survivors = peers.filter((p) => p.process !== 2);
    const back: Joined[] = [];
    for (const room of new Set(survivors.map((p) => p.room))) back.push(await join(2, room));
    for (const peer of back) {
      const inRoom = survivors.filter((p) => p.room === peer.room);
      assert.deepEqual(peer.welcome.peers.map((p) => p.peerId).sort(), inRoom.map((p) => p.welcome.peerId).sort());
      const partner = inRoom[0]!;
      await partner.next('peer-joined', (m) => m.peer.peerId === peer.welcome.peerId);
      partner.send({ type: 'relay', to: peer.welcome.peerId, data: 'welcome back' });
      assert.equal((await peer.next('relay', (m) => m.from === partner.welcome.peerId)).data, 'welcome back');
      peer.send({ type: 'relay', to: partner.welcome.peerId, data: 'thanks' });
      assert.equal((await partner.next('relay', (m) => m.from === peer.welcome.peerId)).data, 'thanks');
    }
  });

  it("a room a process no longer serves leaves that process's room index", async () => {
    const indexed = async (room: string): Promise<boolean> => {
      const keysOfIndexes = await keys.keys('framewire:node-rooms:*');
      const held = await Promise.all(keysOfIndexes.map((key) => keys.sismember(key, room)));
      return held.includes(1);
    };
    const passing = await join(0, 'passing');
    assert.ok(await indexed('passing'));
    passing.send({ type: 'leave' });
    await passing.closed;
    await waitUntil(async () => !(await indexed('passing')), 'the room to leave the index', 60_000);
  });
});
