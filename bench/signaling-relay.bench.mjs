// Relayed messages per second through one framewire-signaling process (tokens, validation, rate limits, rooms)
// vs a bare `ws` relay that does none of that. 20 senders each relay to their own receiver, as fast as the sockets
// take it (backpressure on bufferedAmount); the figure is messages delivered per second.
import { TokenAuthority } from '../packages/signaling/dist/index.js';
import { openClient, SECRET, startBareRelay, startSignaling } from './lib/signaling-harness.mjs';

const PAIRS = 20;
const PER_SENDER = 2000;
export const name = `Signaling relay, ${PAIRS} sender→receiver pairs × ${PER_SENDER} messages: framewire-signaling vs bare ws relay`;

async function measure(server, tokenFor) {
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    const room = `bench-${i}`;
    const options = async () => (tokenFor ? { token: await tokenFor(room), room } : {});
    pairs.push([await openClient(server.port, await options()), await openClient(server.port, await options())]);
  }
  const payload = { kind: 'candidate', text: 'candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host'.repeat(2) };
  const start = performance.now();
  await Promise.all(
    pairs.map(async ([sender, receiver]) => {
      const text = JSON.stringify({ type: 'relay', to: receiver.peerId, data: payload });
      for (let n = 0; n < PER_SENDER; n++) {
        while (sender.ws.bufferedAmount > 256 * 1024) await new Promise((r) => setTimeout(r, 1));
        sender.ws.send(text);
      }
      while (receiver.received < PER_SENDER) await new Promise((r) => setTimeout(r, 2));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const pair of pairs) for (const c of pair) c.ws.terminate();
  return (PAIRS * PER_SENDER) / seconds;
}

export async function run({ repeats }) {
  const authority = new TokenAuthority(SECRET);
  const ours = [];
  const baseline = [];
  for (let i = 0; i < repeats; i++) {
    const signaling = await startSignaling();
    ours.push(
      await measure(signaling, (room) => authority.issue({ room, role: 'publisher' })).finally(() => signaling.stop()),
    );
    const bare = await startBareRelay();
    baseline.push(await measure(bare, null).finally(() => bare.stop()));
  }
  return { ours, baseline, unit: 'msg/s', oursLabel: 'framewire-signaling', baselineLabel: 'bare ws relay' };
}
