// Memory per connection: RSS growth of one framewire-signaling process holding 2,000 joined peers (rooms of 20),
// vs a bare `ws` server holding 2,000 plain sockets. Lower is better; the number of connections held is the same on
// both sides (every one of them joined and welcomed).
import { TokenAuthority } from '../packages/signaling/dist/index.js';
import { openClient, SECRET, startBareRelay, startSignaling } from './lib/signaling-harness.mjs';

const CONNECTIONS = 2000;
export const name = `Memory per connection, ${CONNECTIONS} concurrent joined peers: framewire-signaling vs bare ws (KiB, lower is better)`;

async function measure(server, tokenFor) {
  await new Promise((r) => setTimeout(r, 300));
  const before = await server.rss();
  const clients = [];
  for (let i = 0; i < CONNECTIONS; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(CONNECTIONS, i + 50); j++) {
      const room = `room-${Math.floor(j / 20)}`;
      batch.push(
        tokenFor ? tokenFor(room).then((token) => openClient(server.port, { token, room })) : openClient(server.port),
      );
    }
    clients.push(...(await Promise.all(batch)));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await server.rss();
  for (const c of clients) c.ws.terminate();
  return (after - before) / CONNECTIONS / 1024;
}

export async function run({ repeats }) {
  const authority = new TokenAuthority(SECRET);
  const ours = [];
  const baseline = [];
  for (let i = 0; i < Math.min(repeats, 3); i++) {
    const signaling = await startSignaling();
    ours.push(
      await measure(signaling, (room) => authority.issue({ room, role: 'viewer' })).finally(() => signaling.stop()),
    );
    const bare = await startBareRelay();
    baseline.push(await measure(bare, null).finally(() => bare.stop()));
  }
  return { ours, baseline, unit: 'KiB/conn', oursLabel: 'framewire-signaling', baselineLabel: 'bare ws' };
}
