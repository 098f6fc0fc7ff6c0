// One client process of the signaling crowd benches (bench/lib/signaling-crowd.mjs): opens `count` WebSockets to
// one server, `batch` at a time, and keeps them open. Config as JSON in argv[2]:
//   { kind: 'framewire' | 'peerjs', port, count, first, rooms, secret, server?, batch? (default 100) }
// framewire clients carry a token, join room `room-<i % rooms>` (with meta { server } when `server` is given) and
// count the `relay` messages they receive; PeerJS clients connect with an id and wait for OPEN. Prints
// `joined <start ms> <end ms>` (epoch) once all are in. Then, on stdin, `relay` makes every framewire client that has
// a room mate of another server relay it one message and prints `sent <n>`; `count` prints `received <n>`, the
// relays received so far.
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { TokenAuthority } from '../../packages/signaling/dist/index.js';

const config = JSON.parse(process.argv[2]);
const authority = config.kind === 'framewire' ? new TokenAuthority(config.secret) : undefined;
const clients = [];
let received = 0;

// Tokens are minted before the clock starts: minting is the token issuer's work, not the server's.
const tokens = [];
if (authority) {
  for (let j = 0; j < config.count; j++) {
    const i = config.first + j;
    tokens.push(await authority.issue({ room: `room-${i % config.rooms}`, role: 'publisher', sub: `user-${i}` }));
  }
}

async function openFramewire(i) {
  const room = `room-${i % config.rooms}`;
  const token = tokens[i - config.first];
  const ws = new WebSocket(`ws://127.0.0.1:${config.port}/ws`, ['framewire.v1', `framewire-token.${token}`], {
    perMessageDeflate: false,
  });
  const client = { ws, welcome: undefined };
  await new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => {
      const join = { type: 'join', room };
      // Only the cross-process bench needs to know where a peer sits.
      if (config.server !== undefined) join.meta = { server: config.server };
      ws.send(JSON.stringify(join));
    });
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'welcome') {
        client.welcome = message;
        keepAlive(client);
        resolve();
      } else if (message.type === 'relay') received++;
      else if (message.type === 'error' && message.fatal) reject(new Error(message.message));
    });
  });
  return client;
}

async function openPeerjs(i) {
  const id = `peer-${config.first + i}`;
  const ws = new WebSocket(`ws://127.0.0.1:${config.port}/peerjs?key=peerjs&id=${id}&token=t${i}`, {
    perMessageDeflate: false,
  });
  await new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'OPEN') resolve();
    });
  });
  return { ws };
}

const open = config.kind === 'framewire' ? openFramewire : openPeerjs;
const startedAtMs = Date.now();
const batchSize = config.batch ?? 100;
for (let i = 0; i < config.count; i += batchSize) {
  const batch = [];
  for (let j = i; j < Math.min(config.count, i + batchSize); j++) batch.push(open(config.first + j));
  clients.push(...(await Promise.all(batch)));
}
console.log(`joined ${startedAtMs} ${Date.now()}`);

// Like the SDK, framewire clients ping at the interval the welcome gives (15 s): the server closes a joined socket
// that stays silent for a minute, and a crowd takes longer than that to gather. Started as each welcome arrives.
function keepAlive(client) {
  const timer = setInterval(() => {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
  }, client.welcome.pingIntervalMs);
  timer.unref();
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') {
    console.log(`received ${received}`);
    return;
  }
  if (line.trim() !== 'relay') return;
  let sent = 0;
  for (const client of clients) {
    const mate = client.welcome?.peers.find((p) => p.meta?.server !== config.server);
    if (!mate) continue;
    client.ws.send(JSON.stringify({ type: 'relay', to: mate.peerId, data: 'x' }));
    sent++;
  }
  console.log(`sent ${sent}`);
});
process.stdin.on('end', () => process.exit(0));
