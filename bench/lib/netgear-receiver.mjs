// The bridge side of bench/netgear-ingest.bench.mjs, in its own process as the bridge runs (the bench process also
// drives Chromium): `node netgear-receiver.mjs PORT PATTERN FRAMES WIDTH HEIGHT [reuse|fresh]` receives FRAMES raw frames with
// NetGearSource and prints JSON lines: {"event":"listening"}, then {"event":"done","frames","bad","fps","cpuUs"} (fps
// and process CPU time from the first frame to the last).
import { NetGearSource } from '@framewire/node-bridge';

const [port, pattern, frames, width, height] = process.argv.slice(2, 7).map(Number);
// `reuse` (the default, as the bridge runs it) or `fresh` (a new buffer per frame, the library default).
const reuseBuffers = process.argv[7] !== 'fresh';
const source = new NetGearSource({ port, pattern, reuseBuffers });
let count = 0;
let bad = 0;
let firstMs = 0;
let lastMs = 0;
let firstCpu;
let cpuUs = 0;
const done = new Promise((resolve) => {
  source.on('frame', ({ frame }) => {
    if (frame.width !== width || frame.height !== height || frame.data.length !== width * height * 3) bad++;
    lastMs = performance.now();
    if (count++ === 0) {
      firstMs = lastMs;
      firstCpu = process.cpuUsage();
    }
    if (count === frames) {
      const cpu = process.cpuUsage(firstCpu);
      cpuUs = cpu.user + cpu.system;
      resolve();
    }
  });
});
await source.start();
console.log(JSON.stringify({ event: 'listening' }));
await done;
// Let the sender's terminate message get its reply before the socket closes.
await new Promise((resolve) => setTimeout(resolve, 200));
await source.close();
const fps = (count - 1) / ((lastMs - firstMs) / 1000);
console.log(JSON.stringify({ event: 'done', frames: count, bad, fps, cpuUs }));
