// Three framewire-signaling processes over one redis-server holding 30,000 authenticated peers together (10,000
// each, rooms of 40 that mix the three processes; six client processes of 5,000 sockets), then every peer that has a room mate on another
// process relays it one message. The same-run baseline is one process on its in-memory bus holding
// 10,000 peers the same way. Heavy (about a minute and a half on 2 cores): one repeat.
import { crowd, startFramewire, startRedis } from './lib/signaling-crowd.mjs';

const PER_PROCESS = 10_000;
const PER_CLIENT_PROCESS = 5_000;
const ROOM_SIZE = 40;
/** On a shared 2-core machine a join can wait in line longer than the default 10 s. */
const JOIN_TIMEOUT = ['--join-timeout-ms', '120000'];
export const name = `Signaling, 3 processes over Redis holding ${(3 * PER_PROCESS).toLocaleString('en')} peers vs 1 process holding ${PER_PROCESS.toLocaleString('en')} (in-memory bus)`;

/** Starts `servers`, fills them with PER_PROCESS peers each and measures memory, join rate and relays. */
async function measure(servers) {
  const total = servers.length * PER_PROCESS;
  try {
    const idle = await Promise.all(servers.map((s) => s.rss()));
    const groups = [];
    for (let g = 0; g < total / PER_CLIENT_PROCESS; g++) {
      const server = Math.floor((g * PER_CLIENT_PROCESS) / PER_PROCESS);
      groups.push({
        kind: 'framewire',
        port: servers[server].port,
        count: PER_CLIENT_PROCESS,
        first: g * PER_CLIENT_PROCESS,
        rooms: total / ROOM_SIZE,
        server,
        // Six client processes share two cores with three servers and Redis: fewer joins in flight at a time.
        batch: 20,
      });
    }
    const clients = await crowd(groups);
    const held = await Promise.all(servers.map((s) => s.rss()));
    const [sent, received] = await clients.relay();
    await clients.stop();
    const growth = held.reduce((sum, rss, i) => sum + rss - idle[i], 0);
    return { kibPerPeer: growth / total / 1024, joinsPerS: total / (clients.joinMs / 1000), sent, received, total };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export async function run({ repeats }) {
  const ours = [];
  const baseline = [];
  const notes = [];
  for (let i = 0; i < Math.min(repeats, 1); i++) {
    const redis = await startRedis();
    try {
      const servers = [];
      for (let s = 0; s < 3; s++) servers.push(await startFramewire(['--redis', redis.url, ...JOIN_TIMEOUT]));
      ours.push(await measure(servers));
    } finally {
      await redis.stop();
    }
    baseline.push(await measure([await startFramewire(JOIN_TIMEOUT)]));
  }
  for (const r of ours) {
    const share = r.sent === 0 ? 0 : (100 * r.received) / r.sent;
    notes.push(
      `- ${r.total} peers on 3 processes; each relays one message to a room mate on another process (those whose welcome listed one): ${r.sent} sent, ${r.received} delivered (${share.toFixed(1)} %).`,
    );
  }
  const labels = { oursLabel: '3 processes + Redis', baselineLabel: '1 process' };
  return {
    rows: [
      { ...labels, ours: ours.map((r) => r.kibPerPeer), baseline: baseline.map((r) => r.kibPerPeer), unit: 'KiB/peer' },
      { ...labels, ours: ours.map((r) => r.joinsPerS), baseline: baseline.map((r) => r.joinsPerS), unit: 'joins/s' },
    ],
    notes,
  };
}
