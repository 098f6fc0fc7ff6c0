// Time from "join" to the first remote frame in Chromium, from a Node publisher (@roamhq/wrtc, VP8, 640×480 at
// 30 fps): framewire's Room through a real signaling server (token check, join, introductions, trickle ICE) vs a bare
// RTCPeerConnection whose offer and answer are handed over directly (no server, gathering completed first).
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NodePeer } from '../packages/node-bridge/dist/index.js';
import { SignalingServer } from '../packages/signaling/dist/index.js';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc');
export const name =
  'Join to first remote frame, Node (wrtc) publisher → Chromium: framewire Room + signaling vs bare RTCPeerConnection (ms, lower is better)';

const isLoopback = (line) => {
  const address = String(line ?? '')
    .replace(/^a=/, '')
    .split(/\s+/)[4];
  return address === '127.0.0.1' || address === '::1';
};
const frame = (() => {
  const data = new Uint8Array(640 * 480 * 1.5).fill(128);
  return { width: 640, height: 480, data };
})();

async function ours(page, server, origin) {
  const publisher = await NodePeer.open({
    url: `ws://127.0.0.1:${server.port}/ws`,
    room: 'bench',
    token: await server.tokens.issue({ room: 'bench', role: 'publisher' }),
    wrtc,
    iceCandidateFilter: (c) => isLoopback(c.candidate),
  });
  const video = publisher.publishVideo();
  const ticker = setInterval(() => video.pushFrame(frame), 33);
  try {
    const token = await server.tokens.issue({ room: 'bench', role: 'viewer' });
    const start = Date.now();
    const firstFrameAt = await page.evaluate(
      async ({ url, token, origin }) => {
        const { Room } = await import(`${origin}/sdk/index.js`);
        const loopback = (c) => ['127.0.0.1', '::1'].includes(String(c.candidate ?? '').split(/\s+/)[4]);
        const room = await Room.open({ url, token, room: 'bench', iceCandidateFilter: loopback });
        const at = await new Promise((resolve) =>
          room.on('track', async ({ source }) => {
            const f = await source.read();
            const now = Date.now();
            f?.close();
            resolve(now);
          }),
        );
        await room.close();
        return at;
      },
      { url: `ws://127.0.0.1:${server.port}/ws`, token, origin },
    );
    return firstFrameAt - start;
  } finally {
    clearInterval(ticker);
    await publisher.close();
  }
}

async function bare(page) {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const ticker = setInterval(() => source.onFrame(frame), 33);
  const start = Date.now();
  const pc = new wrtc.RTCPeerConnection();
  try {
    pc.addTrack(track, new wrtc.MediaStream([track]));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
    const offer = pc.localDescription.sdp
      .split('\r\n')
      .filter((l) => !l.startsWith('a=candidate:') || isLoopback(l))
      .join('\r\n');
    const answer = await page.evaluate(async (sdp) => {
      const remote = new RTCPeerConnection();
      globalThis.benchPc = remote;
      globalThis.benchFirst = new Promise((resolve) => {
        remote.ontrack = async ({ track: t }) => {
          const reader = new MediaStreamTrackProcessor({ track: t }).readable.getReader();
          const { value } = await reader.read();
          const now = Date.now();
          value?.close();
          reader.cancel();
          resolve(now);
        };
      });
      await remote.setRemoteDescription({ type: 'offer', sdp });
      await remote.setLocalDescription(await remote.createAnswer());
      await new Promise((resolve) => {
        if (remote.iceGatheringState === 'complete') resolve();
        remote.onicegatheringstatechange = () => remote.iceGatheringState === 'complete' && resolve();
      });
      return remote.localDescription.sdp;
    }, offer);
    await pc.setRemoteDescription({
      type: 'answer',
      sdp: answer
        .split('\r\n')
        .filter((l) => !l.startsWith('a=candidate:') || isLoopback(l))
        .join('\r\n'),
    });
    const at = await page.evaluate(async () => {
      const at = await globalThis.benchFirst;
      globalThis.benchPc.close();
      return at;
    });
    return at - start;
  } finally {
    clearInterval(ticker);
    track.stop();
    pc.close();
  }
}

export async function run({ page, repeats }) {
  const origin = await page.evaluate(() => location.origin);
  const server = await SignalingServer.start({
    port: 0,
    secret: 'bench-secret-0123456789abcdef',
    allowedOrigins: [origin],
  });
  const oursMs = [];
  const baselineMs = [];
  try {
    for (let i = 0; i < repeats; i++) {
      oursMs.push(await ours(page, server, origin));
      baselineMs.push(await bare(page));
    }
  } finally {
    await server.close();
    // wrtc 0.10 must finalize its objects before the process exits (see test/helpers/peers.ts settleWrtc).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc();
    }
  }
  return {
    ours: oursMs,
    baseline: baselineMs,
    unit: 'ms',
    oursLabel: 'framewire Room',
    baselineLabel: 'bare RTCPeerConnection',
  };
}
