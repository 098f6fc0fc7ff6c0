// The folders of the browser SDK and of the bridge are the stages of the data flow. This check lists every import
// between them (static, dynamic and type-only imports alike: a type is a dependency too), prints a table
// "folder → folder: count", and fails on any import the layer map below does not allow, so that a folder never
// reaches up (or sideways) into a stage that depends on it. `npm test` runs it; run it alone with
// `node scripts/check-layers.mjs`. A new folder must be placed in the map before it can import or be imported.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Per package: where its sources are, which unit a top-level file belongs to (files in a folder belong to the
 * folder), for each unit the units it may import, with the reason (a unit's own files import each other freely),
 * and the file-to-file imports against the flow that are known and kept for now, with the reason.
 */
const PACKAGES = [
  {
    name: 'browser-sdk',
    src: 'packages/browser-sdk/src',
    // index.ts (the public entry), open-source.ts (openSource, which knows every stage) and version.ts.
    topLevel: {},
    allowed: {
      // Ambient declarations for globals; imports nothing.
      types: [],
      // The frame contract (FrameSource, QueuedFrameSource), the demuxed-input contract, queues, capture stamps,
      // lazy loaders: what every stage builds on, so it imports none of them.
      core: [],
      // Transports only (signaling client, data framing, MQTT connect, WHIP/WHEP HTTP, RTP capture clock).
      network: ['core'],
      // Stage ①: sources make frames; some read them off a transport (MQTT, WHEP).
      sources: ['core', 'network'],
      // Stage ②: transforms wrap a source (the contract is in core; `sources` for wrapping a concrete one).
      transforms: ['core', 'sources'],
      // Stage ③: encoders turn frames into chunks; they know only the contract and their worker messages.
      encoders: ['core'],
      // Stage ④: outputs encode (encoders) and write or send (network); they take inputs through core's contracts.
      outputs: ['core', 'network', 'encoders'],
      // Playback reads what outputs made (HLS/DASH) with lazily loaded players.
      playback: ['core'],
      // Peers: rooms and peer links over the signaling transport, and the remote sources they deliver.
      peers: ['core', 'network', 'sources'],
      // Worker entry points (separate bundles): each runs the worker half of one stage.
      workers: ['core', 'sources', 'transforms', 'encoders', 'outputs'],
      // The public entry, openSource and the version: above every stage.
      '(top)': ['types', 'core', 'network', 'sources', 'transforms', 'encoders', 'outputs', 'playback', 'peers'],
    },
    // Imports against the flow that are known and kept for now, each with the reason; the table marks them `~`.
    exceptions: {
      // The Recorder's `audio` option takes a FileSource or a Blob, which it opens as a FileSource; its audio input
      // is being reworked separately. Its demuxed tracks already come through core/demuxed-input.ts.
      'outputs/recorder.ts → sources/file-source.ts': 'audio option: FileSource type, Blob opened with FileSource.open',
      // `package(source: FileSource)` is public API, and a Blob `audio` option is opened with FileSource.open.
      'outputs/packager/packager.ts → sources/file-source.ts':
        'public package(FileSource), Blob audio opened with FileSource.open',
      // The public `PackagerOptions.audio` type names FileSource (type-only).
      'outputs/packager/packager-options.ts → sources/file-source.ts': 'public PackagerOptions.audio type',
    },
  },
  {
    name: 'node-bridge',
    exceptions: {},
    src: 'packages/node-bridge/src',
    topLevel: {
      'protocol.ts': 'protocol',
      'version.ts': 'version',
      'bridge-server.ts': 'server',
      'index.ts': 'entry',
      'cli.ts': 'entry',
      'cli-extra-outputs.ts': 'entry',
      'cli-h264.ts': 'entry',
      'cli-motion.ts': 'entry',
    },
    allowed: {
      // Ambient declarations; imports nothing.
      types: [],
      // The isomorphic wire protocol (the `./protocol` subpath): imported by every side, imports nothing.
      protocol: [],
      // The version string.
      version: [],
      // Frames, codecs, container parsers, RTP packetizers and wire layouts (shm): pure data, no stage.
      media: [],
      // ffmpeg arguments, supervised child processes and the ffprobe run (whose result media/ describes).
      process: ['media'],
      // Small HTTP helpers (errors, request bodies, static files, Prometheus text).
      http: [],
      // The NetGear/ZeroMQ wire format and sockets.
      netgear: ['media'],
      // The MQTT broker connection shared by the MQTT source and output.
      mqtt: [],
      // `framewire-bridge tls`: the local CA and LAN certificates (openssl), for the CLI; no stage.
      tls: [],
      // Sources: frames in, from devices, ffmpeg, NetGear, MQTT, shm, rooms and WebRTC publishers.
      sources: ['protocol', 'media', 'process', 'netgear', 'mqtt'],
      // Frame feeds and the ffmpeg transcoder: from a source's frames to the format an output needs.
      pipeline: ['sources', 'media', 'process'],
      // The WebRTC engine the outputs use: RTP fan-out, passthrough viewers, ICE, IPC with the WebRTC worker.
      webrtc: ['pipeline', 'sources', 'media', 'process', 'protocol'],
      // Outputs: WebSocket, WebRTC (and its WHIP/WHEP endpoints), MJPEG, MQTT, NetGear, shm, WHIP push.
      outputs: ['webrtc', 'pipeline', 'sources', 'netgear', 'mqtt', 'media', 'process', 'http', 'protocol'],
      // Recording (--record): a source's H.264 feed and audio to fragmented MP4 files, their directory, /recordings.
      recording: ['pipeline', 'sources', 'media', 'http', 'protocol'],
      // Motion detection: small gray frames from a pipeline feed compared, events to SSE, a webhook and MQTT.
      motion: ['pipeline', 'sources', 'media', 'process', 'mqtt', 'protocol'],
      // bridge-server.ts: one HTTP server over the outputs, sources and pipelines.
      server: [
        'motion',
        'outputs',
        'recording',
        'webrtc',
        'pipeline',
        'sources',
        'media',
        'process',
        'http',
        'protocol',
        'version',
      ],
      // The room peer: joins a signaling room on behalf of a bridge server (and its worker process); it decodes the
      // sources' Opus to PCM for wrtc through a pipeline stage.
      peers: ['server', 'webrtc', 'pipeline', 'sources', 'media', 'process'],
      // `framewire-bridge service`: writes the systemd unit that runs the CLI; imports no stage.
      service: [],
      // `framewire-bridge doctor`: probes the machine and reports the choices the sources and encoders make.
      doctor: ['sources', 'process', 'media'],
      // The public entry and the CLI: above everything.
      entry: [
        'motion',
        'service',
        'doctor',
        'peers',
        'server',
        'outputs',
        'recording',
        'webrtc',
        'pipeline',
        'sources',
        'mqtt',
        'netgear',
        'http',
        'tls',
        'process',
        'media',
        'version',
        'protocol',
      ],
    },
  },
];

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The unit of a file given by its path relative to src/: its first folder, or the top-level map's entry. */
function unitOf(pkg, rel) {
  const slash = rel.indexOf('/');
  if (slash >= 0) return rel.slice(0, slash);
  return pkg.topLevel[rel] ?? '(top)';
}

/** Units reachable from `unit` through the allowed map (to refuse a map with a cycle). */
function reaches(allowed, from, to, seen = new Set()) {
  for (const next of allowed[from] ?? []) {
    if (next === to) return true;
    if (!seen.has(next)) {
      seen.add(next);
      if (reaches(allowed, next, to, seen)) return true;
    }
  }
  return false;
}

const problems = [];
for (const pkg of PACKAGES) {
  for (const unit of Object.keys(pkg.allowed)) {
    if (reaches(pkg.allowed, unit, unit)) problems.push(`${pkg.name}: the layer map has a cycle through ${unit}`);
  }
  const srcDir = join(root, pkg.src);
  /** `from → to` → { count, files (those not excepted), excepted } */
  const edges = new Map();
  const unusedExceptions = new Set(Object.keys(pkg.exceptions));
  for (const file of tsFiles(srcDir)) {
    const rel = relative(srcDir, file);
    const from = unitOf(pkg, rel);
    if (!(from in pkg.allowed))
      problems.push(`${pkg.name}: ${rel} is in "${from}", which the layer map does not place`);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const targetRel = relative(srcDir, resolve(dirname(file), fileName)).replace(/\.js$/, '.ts');
      if (targetRel.startsWith('..')) {
        problems.push(`${pkg.name}: ${rel} imports ${fileName}, outside the package's src/`);
        continue;
      }
      const to = unitOf(pkg, targetRel);
      if (to === from) continue;
      const key = `${from} → ${to}`;
      const edge = edges.get(key) ?? { from, to, count: 0, files: [], excepted: 0 };
      edge.count++;
      const pair = `${rel} → ${targetRel}`;
      if (pair in pkg.exceptions) {
        edge.excepted++;
        unusedExceptions.delete(pair);
      } else edge.files.push(pair);
      edges.set(key, edge);
    }
  }
  const rows = [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  let against = 0;
  let excepted = 0;
  console.log(`\n${pkg.name} (${pkg.src}): imports between folders`);
  for (const edge of rows) {
    const ok = (pkg.allowed[edge.from] ?? []).includes(edge.to);
    const mark = ok ? ' ' : edge.files.length > 0 ? '✗' : '~';
    console.log(`  ${mark} ${`${edge.from} → ${edge.to}`.padEnd(28)} ${String(edge.count).padStart(3)}`);
    if (ok) continue;
    against += edge.files.length;
    excepted += edge.excepted;
    for (const f of edge.files) problems.push(`${pkg.name}: ${f} goes against the flow (${edge.from} → ${edge.to})`);
  }
  for (const pair of unusedExceptions)
    problems.push(`${pkg.name}: the exception "${pair}" matches no import: remove it`);
  const total = rows.reduce((sum, edge) => sum + edge.count, 0);
  console.log(
    `  ${total} imports between folders, ${against} against the flow` +
      (excepted > 0 ? `, ${excepted} known exceptions (~, listed in the script)` : ''),
  );
}
if (problems.length > 0) {
  console.error(`\n${problems.join('\n')}`);
  console.error('\nlayers: see the layer map in scripts/check-layers.mjs');
  process.exit(1);
}
console.log('\nlayers: every import between folders follows the flow');
