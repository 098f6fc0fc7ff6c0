// Memory per authenticated peer and join rate at 10,000 peers on one process: framewire-signaling (every peer
// with a JWT, joined to a room of 40, welcomed with its room mates) vs PeerJS (npm `peer` 1.0.2, no
// authentication, no rooms), in the same run. Clients sit in two other processes (5,000 sockets each). Resident
// memory is read from /proc after a full garbage collection on both sides; the figure is the growth from the idle
// server to the server holding the crowd, divided by the peers. Heavy: one repeat unless BENCH_REPEATS asks fewer.
import { crowd, startFramewire, startPeerjs } from './lib/signaling-crowd.mjs';

const PEERS = 10_000;
const ROOM_SIZE = 40;
export const name = `Signaling, ${PEERS.toLocaleString('en')} peers on one process: framewire-signaling (authenticated, rooms of ${ROOM_SIZE}) vs PeerJS 1.0.2 (no authentication)`;

async function measure(server, kind) {
  try {
    const idle = await server.rss();
    const half = PEERS / 2;
    const group = (i) => ({ kind, port: server.port, count: half, first: i * half, rooms: PEERS / ROOM_SIZE });
    const clients = await crowd([group(0), group(1)]);
    const held = await server.rss();
    await clients.stop();
    return { kibPerPeer: (held - idle) / PEERS / 1024, joinsPerS: PEERS / (clients.joinMs / 1000) };
  } finally {
    await server.stop();
  }
}

export async function run({ repeats }) {
  const ours = [];
  const baseline = [];
  for (let i = 0; i < Math.min(repeats, 1); i++) {
    ours.push(await measure(await startFramewire(), 'framewire'));
    baseline.push(await measure(await startPeerjs(), 'peerjs'));
  }
  const labels = { oursLabel: 'framewire-signaling', baselineLabel: 'PeerJS' };
  return {
    rows: [
      { ...labels, ours: ours.map((r) => r.kibPerPeer), baseline: baseline.map((r) => r.kibPerPeer), unit: 'KiB/peer' },
      { ...labels, ours: ours.map((r) => r.joinsPerS), baseline: baseline.map((r) => r.joinsPerS), unit: 'joins/s' },
    ],
    notes: [
      `Memory: resident growth per peer after a full GC (lower is better). Join rate: ${PEERS} peers opened 100 at a time by each of 2 client processes, from the first connect to the last welcome (framewire) or OPEN (PeerJS) (higher is better).`,
    ],
  };
}
