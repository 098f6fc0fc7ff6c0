// The floor of bench/netgear-ingest.bench.mjs: a bare zeromq.js receive loop with no bridge code (receive, parse the
// JSON header, reply), in its own process. `node zeromq-bare-receiver.mjs PORT PATTERN FRAMES` prints JSON lines:
// {"event":"listening"}, then {"event":"done","frames","fps","cpuUs","gcs","gcMs"}: fps and process CPU time from
// the first frame to the last, and V8's garbage collections in that span (count and total pause).
import { PerformanceObserver } from 'node:perf_hooks';
import { Pair, Reply } from 'zeromq';

const [port, pattern, frames] = process.argv.slice(2).map(Number);
const socket = pattern === 0 ? new Pair() : new Reply();
socket.linger = 0;
await socket.bind(`tcp://127.0.0.1:${port}`);
console.log(JSON.stringify({ event: 'listening' }));
let count = 0;
let firstMs = 0;
let lastMs = 0;
let firstCpu;
const collections = [];
new PerformanceObserver((list) => collections.push(...list.getEntries())).observe({ entryTypes: ['gc'] });
while (count < frames) {
  const [header] = await socket.receive();
  const terminate = JSON.parse(header.toString()).terminate_flag === true;
  await socket.send('Data received on device: bare !');
  if (terminate) break;
  lastMs = performance.now();
  if (count++ === 0) {
    firstMs = lastMs;
    firstCpu = process.cpuUsage();
  }
}
const cpu = process.cpuUsage(firstCpu);
// Answer the sender's terminate message before closing.
const [last] = await socket.receive();
if (JSON.parse(last.toString()).terminate_flag === true) await socket.send('Terminated');
await new Promise((resolve) => setTimeout(resolve, 50)); // the last GC entries arrive in a later task
socket.close();
const during = collections.filter((entry) => entry.startTime >= firstMs && entry.startTime <= lastMs);
const gcs = during.length;
const gcMs = during.reduce((sum, entry) => sum + entry.duration, 0);
const fps = (count - 1) / ((lastMs - firstMs) / 1000);
console.log(JSON.stringify({ event: 'done', frames: count, fps, cpuUs: cpu.user + cpu.system, gcs, gcMs }));
