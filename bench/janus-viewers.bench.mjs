// Janus as the SFU: one bridge (`framewire-bridge --janus-url`, its own process, 1280×720 30 fps test pattern with
// `--audio tone`) sends each source once to Debian's Janus (its streaming plugin), which serves the viewers. Three
// questions, each against a same-run baseline:
// 1. Does the bridge's CPU stay the same with 50 Janus viewers as with 1? (Node + its ffmpegs over the same window.)
// 2. What does a viewer cost Janus, against what the same viewer costs the bridge when it serves it directly (H.264
//    passthrough over its own WHEP)? Per viewer: (CPU with 50 − CPU with 1) / 49 for Janus, (CPU with 50 direct
//    viewers − CPU with none) / 50 for the bridge. Viewers are werift peer connections in this process that only
//    receive (no decoding).
// 3. Glass-to-glass through Janus vs direct, in one Chromium page: a WhepSource on the bridge (the capture time each
//    frame carries gives its glass-to-glass latency) and a JanusSource on the mountpoint decode the same stream; the
//    pattern flashes white once a second, and each flash's arrival through Janus minus its arrival direct, added to
//    the direct frame's latency, is that flash's latency through Janus.
// Janus gathers no loopback candidate, so on this machine Janus and every viewer meet through a coturn on 127.0.0.1
// (relay candidates, TURN over TCP for Janus): its CPU is reported too, and its hop is inside the Janus latency.
// Lower is better.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { tsImport } from 'tsx/esm/api';
import { LoopbackStunServer } from '@framewire/node-bridge';
import { CHROMIUM_ARGS } from '../web-test-runner.config.mjs';
import { childProcesses, cpuSeconds, startBridgeCli } from './lib/bridge-process.mjs';
import { openJanusWeriftViewer } from './lib/janus-werift-viewer.mjs';
import { openWeriftViewer } from '../test/helpers/werift-viewer.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const MANY = 50;
const WINDOW_MS = 5000;
const SETTLE_MS = 3000;
const LATENCY_WINDOW_MS = 15_000;
const SECRET = 'bench-janus-secret';
const TURN_SECRET = 'bench-turn-secret';

export const name = `Janus as the SFU, ${WIDTH}×${HEIGHT} ${FPS} fps test pattern with audio on loopback: bridge CPU with ${MANY} Janus viewers vs 1, Janus CPU per viewer vs the bridge serving the viewer directly, glass-to-glass through Janus vs direct`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

/** The pid of this process's child whose command is `comm`. */
function childPid(comm) {
  const child = childProcesses(process.pid).find((c) => c.comm === comm);
  if (!child) throw new Error(`no ${comm} child process`);
  return child.pid;
}

/** CPU seconds of the bridge's Node process and of its ffmpeg children. */
function bridgeSeconds(pid) {
  return cpuSeconds(pid) + childProcesses(pid).reduce((sum, c) => sum + cpuSeconds(c.pid), 0);
}

/** CPU % of one core of each of `pids` over WINDOW_MS (after SETTLE_MS). */
async function cpuWindow(pids) {
  await sleep(SETTLE_MS);
  const start = Object.fromEntries(Object.entries(pids).map(([k, read]) => [k, read()]));
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const seconds = (performance.now() - t0) / 1000;
  return Object.fromEntries(Object.entries(pids).map(([k, read]) => [k, ((read() - start[k]) / seconds) * 100]));
}

async function health(port) {
  return (await fetch(`http://127.0.0.1:${port}/health`)).json();
}

/** The page side of question 3: both sources read side by side; flashes and direct latencies by arrival time. */
function latencyInPage(page, { bridgeUrl, janusUrl, turn, windowMs }) {
  return page.evaluate(
    async ({ bridgeUrl, janusUrl, turn, windowMs, secret }) => {
      const { WhepSource, JanusSource, getCaptureTime } = await import('/sdk/index.js');
      const loopback = (line) => {
        const address = line.replace(/^a=/, '').split(/\s+/)[4];
        return address === '127.0.0.1' || address === '::1';
      };
      const canvas = new OffscreenCanvas(8, 8);
      const context = canvas.getContext('2d', { willReadFrequently: true });
      const white = (frame) => {
        context.drawImage(frame, 0, 0, 8, 8);
        const pixels = context.getImageData(0, 0, 8, 8).data;
        let sum = 0;
        for (let i = 0; i < pixels.length; i += 4) sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
        return sum / (pixels.length / 4) / 3 > 200;
      };
      const direct = await WhepSource.open({ url: `${bridgeUrl}whep`, candidateFilter: loopback });
      const janus = await JanusSource.open({
        url: janusUrl,
        mountpoint: 'testpattern',
        apiSecret: secret,
        iceServers: [turn],
        candidateFilter: loopback,
        openTimeoutMs: 60_000,
      });
      /** Arrival times of each flash's first white frame; for the direct path also that frame's latency. */
      const flashes = { direct: [], janus: [] };
      const latencies = [];
      const read = async (source, key, until) => {
        let lastFlash = -1e9;
        while (performance.now() < until) {
          const frame = await source.read();
          if (!frame) break;
          const now = performance.now();
          const captured = key === 'direct' ? getCaptureTime(frame) : undefined;
          if (captured !== undefined) latencies.push(Date.now() - captured);
          if (white(frame) && now - lastFlash > 500) {
            lastFlash = now;
            flashes[key].push({ at: now, latency: captured === undefined ? undefined : Date.now() - captured });
          }
          frame.close();
        }
      };
      try {
        // Both have been playing a few seconds before the window (Janus's first keyframe, the WHEP capture times).
        const warm = performance.now() + 5000;
        await Promise.all([read(direct, 'direct', warm), read(janus, 'janus', warm)]);
        flashes.direct.length = 0;
        flashes.janus.length = 0;
        latencies.length = 0;
        const until = performance.now() + windowMs;
        await Promise.all([read(direct, 'direct', until), read(janus, 'janus', until)]);
      } finally {
        await Promise.all([direct.close(), janus.close()]);
      }
      // Pair each direct flash with the first Janus flash after it that is less than 500 ms later.
      const throughJanus = [];
      for (const flash of flashes.direct) {
        const match = flashes.janus.find((j) => j.at >= flash.at - 100 && j.at - flash.at < 500);
        if (match && flash.latency !== undefined) throughJanus.push(flash.latency + (match.at - flash.at));
      }
      return { latencies, throughJanus, flashes: flashes.direct.length };
    },
    { bridgeUrl, janusUrl, turn, windowMs, secret: SECRET },
  );
}

export async function run({ page, repeats }) {
  const { startJanus } = await tsImport('../test/helpers/janus.ts', import.meta.url);
  const { startCoturn } = await tsImport('../test/helpers/signaling.ts', import.meta.url);
  const dir = await mkdtemp(join(tmpdir(), 'fw-janus-bench-'));
  const coturn = await startCoturn(TURN_SECRET);
  const username = `${Math.floor(Date.now() / 1000) + 86_400}:bench`;
  const credential = createHmac('sha1', TURN_SECRET).update(username).digest('base64');
  const janus = await startJanus(dir, SECRET, { port: coturn.port, username, credential });
  const stun = await LoopbackStunServer.start();
  process.env['FRAMEWIRE_JANUS_SECRET'] = SECRET;
  const bridge = await startBridgeCli([
    ...['--port', '0', '--size', `${WIDTH}x${HEIGHT}`, '--fps', String(FPS), '--audio', 'tone'],
    ...['--janus-url', janus.url, '--webrtc', '--webrtc-ice-address', '127.0.0.1', '--webrtc-max-sessions', '60'],
  ]);
  delete process.env['FRAMEWIRE_JANUS_SECRET'];
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const origin = new URL(page.url()).origin;
  const results = { bridge1: [], bridge50: [], janusPer: [], directPer: [], turnPer: [], fps50: [] };
  const latency = { direct: [], janus: [], pairs: [] };
  try {
    for (let t = Date.now(); !(await health(bridge.port)).janus?.some((j) => j.state === 'ready');) {
      if (Date.now() - t > 60_000) throw new Error('the mountpoint was not created');
      await sleep(200);
    }
    const janusPid = childPid('janus');
    const turnPid = childPid('turnserver');
    const pids = {
      bridge: () => bridgeSeconds(bridge.child.pid),
      janus: () => cpuSeconds(janusPid),
      turn: () => cpuSeconds(turnPid),
    };
    const janusViewers = async (n) => {
      const viewers = [];
      for (let i = 0; i < n; i++)
        viewers.push(
          await openJanusWeriftViewer({
            url: janus.url,
            apiSecret: SECRET,
            description: 'testpattern',
            stunUrl: stun.url,
          }),
        );
      return viewers;
    };
    const directViewers = async (n) => {
      const viewers = [];
      for (let i = 0; i < n; i++)
        viewers.push(await openWeriftViewer(`http://127.0.0.1:${bridge.port}/offer`, 'h264', stun.url));
      return viewers;
    };
    const closeAll = (viewers) => Promise.all(viewers.map((v) => v.close()));
    const browserPage = await browser.newPage();
    await browserPage.goto(`${origin}/`);
    for (let i = 0; i < repeats; i++) {
      const none = await cpuWindow(pids);
      let viewers = await janusViewers(1);
      const one = await cpuWindow(pids);
      await closeAll(viewers);
      viewers = await janusViewers(MANY);
      const before = viewers.map((v) => v.counts.frames);
      const many = await cpuWindow(pids);
      results.fps50.push(
        median(viewers.map((v, k) => ((v.counts.frames - before[k]) * 1000) / (SETTLE_MS + WINDOW_MS))),
      );
      await closeAll(viewers);
      viewers = await directViewers(MANY);
      const direct = await cpuWindow(pids);
      await closeAll(viewers);
      results.bridge1.push(one.bridge);
      results.bridge50.push(many.bridge);
      results.janusPer.push((many.janus - one.janus) / (MANY - 1));
      results.turnPer.push((many.turn - one.turn) / (MANY - 1));
      results.directPer.push((direct.bridge - none.bridge) / MANY);
      const measured = await latencyInPage(browserPage, {
        bridgeUrl: `http://127.0.0.1:${bridge.port}/`,
        janusUrl: janus.url,
        turn: { urls: `turn:127.0.0.1:${coturn.port}?transport=tcp`, username, credential },
        windowMs: LATENCY_WINDOW_MS,
      });
      latency.direct.push(measured.latencies);
      latency.janus.push(measured.throughJanus);
      latency.pairs.push(`${measured.throughJanus.length}/${measured.flashes}`);
    }
  } finally {
    await browser.close();
    const exited = new Promise((resolve) => bridge.child.once('exit', resolve));
    bridge.child.kill('SIGTERM');
    await exited;
    stun.close();
    await janus.stop();
    await coturn.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const perRun = (series, q) => series.map((values) => percentile(values, q));
  return {
    rows: [
      {
        unit: '% CPU',
        ours: results.bridge50,
        baseline: results.bridge1,
        oursLabel: `bridge CPU (Node + its ffmpegs) with ${MANY} Janus viewers (goal: the same within noise)`,
        baselineLabel: 'the same bridge with 1 Janus viewer',
      },
      {
        unit: '% CPU',
        ours: results.janusPer,
        baseline: results.directPer,
        oursLabel: `Janus CPU per viewer, (${MANY} − 1 viewers) / ${MANY - 1}`,
        baselineLabel: `the bridge's own CPU per viewer when it serves ${MANY} viewers directly (H.264 passthrough, werift)`,
      },
      {
        unit: 'ms',
        ours: perRun(latency.janus, 0.5),
        baseline: perRun(latency.direct, 0.5),
        oursLabel: 'glass-to-glass p50 through Janus (and the loopback coturn), JanusSource',
        baselineLabel: 'glass-to-glass p50 direct, WhepSource on the bridge (same page, same stream)',
      },
      {
        unit: 'ms',
        ours: perRun(latency.janus, 0.95),
        baseline: perRun(latency.direct, 0.95),
        oursLabel: 'glass-to-glass p95 through Janus, JanusSource',
        baselineLabel: 'glass-to-glass p95 direct, WhepSource',
      },
    ],
    notes: [
      'CPU in % of one core: lower is better. Viewers are werift peer connections in the bench process (receive only, no decoding).',
      `coturn CPU per Janus viewer (the relay this machine needs because Janus gathers no loopback candidate), median: ${median(results.turnPer).toFixed(2)}%.`,
      `Frames received per Janus viewer with ${MANY} viewers (median fps; the source makes ${FPS}): ${results.fps50.map((f) => f.toFixed(1)).join(', ')}.`,
      `Glass-to-glass through Janus per flash (the white frame once a second): its arrival through Janus minus its arrival direct, plus that frame's direct latency; flashes paired per run: ${latency.pairs.join(', ')}.`,
    ],
  };
}
