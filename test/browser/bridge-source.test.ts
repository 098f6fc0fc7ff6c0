import { expect } from 'chai';
import {
  BridgeSource,
  type FramewireError,
  type FrameInfo,
  getCaptureTime,
  getFrameInfo,
  openSource,
} from '@framewire/browser-sdk';
import { isClosed, rejection, until, within } from '../helpers/browser.js';
import { killBridgeSource, restartBridge, startTestServer, type TestServer } from '../helpers/media.js';

const TOKEN = 'bridge-token-1234';

interface Taken {
  sizes: Set<string>;
  timestamps: number[];
  captures: number[];
}

/** Reads `count` frames, closing each; returns what they were. */
async function take(source: BridgeSource, count: number, timeoutMs = 60_000): Promise<Taken> {
  const taken: Taken = { sizes: new Set(), timestamps: [], captures: [] };
  for (let i = 0; i < count; i++) {
    const frame = await within(source.read(), timeoutMs, `frame ${i}`);
    if (!frame) throw new Error(`the source ended after ${i} frames`);
    taken.sizes.add(`${frame.displayWidth}x${frame.displayHeight}`);
    taken.timestamps.push(frame.timestamp);
    const captured = getCaptureTime(frame);
    expect(captured, 'capture stamp').to.be.a('number');
    taken.captures.push(captured ?? 0);
    frame.close();
  }
  return taken;
}

const increasing = (values: number[]): boolean => values.every((v, i) => i === 0 || v > values[i - 1]!);

describe('BridgeSource', function () {
  // Bounds a hang only: these tests start bridges and ffmpeg, slow on a busy machine.
  this.timeout(180_000);
  const opened: BridgeSource[] = [];
  const servers: TestServer[] = [];
  const open = async (...args: Parameters<typeof BridgeSource.open>): Promise<BridgeSource> => {
    const source = await BridgeSource.open(...args);
    opened.push(source);
    return source;
  };
  const serve = async (kind: 'bridge' | 'ws-proxy', options: object = {}): Promise<TestServer> => {
    const server = await startTestServer(kind, options);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await Promise.all(
      servers
        .splice(0)
        .reverse()
        .map((s) => s.stop()),
    );
  });

  it('BridgeSource, H.264 over WebSocket from a real bridge becomes 320×240 frames with advancing timestamps and increasing capture stamps', async () => {
    const startedAtMs = Date.now();
    const bridge = await serve('bridge');
    const source = await open(bridge.url);
    expect(source.url).to.equal(`${bridge.url.replace('http', 'ws')}/ws`);
    const taken = await take(source, 30);
    expect([...taken.sizes]).to.deep.equal(['320x240']);
    // Transcoded frames keep their source frame's timestamp (the 15 fps test pattern: 1/15 s steps, or whole
    // multiples of it where a frame was skipped); the capture stamps are strictly increasing.
    expect(increasing(taken.timestamps), `timestamps ${taken.timestamps.join(',')}`).to.equal(true);
    for (let i = 1; i < taken.timestamps.length; i++) {
      const frames = (taken.timestamps[i]! - taken.timestamps[i - 1]!) / (1_000_000 / 15);
      expect(Math.abs(frames - Math.round(frames)), `step ${i} in frames: ${frames}`).to.be.below(0.001);
    }
    expect(taken.timestamps.at(-1)! - taken.timestamps[0]!).to.be.above(1_000_000);
    expect(increasing(taken.captures), 'capture stamps').to.equal(true);
    // BridgeSource acknowledges frames, so the bridge can tell at once when this viewer falls behind.
    expect(await bridge.stats()).to.include({ websocketClients: 1, ackingClients: 1 });
    // Wall-clock capture times of this run (the bridge shares this machine's clock).
    for (const captured of taken.captures) expect(captured).to.be.within(startedAtMs, Date.now());
    const stats = source.stats;
    expect(stats.framesDelivered).to.equal(30);
    expect(stats.latencyP50Ms).to.be.a('number');
    expect(stats.latencyP95Ms).to.be.at.least(stats.latencyP50Ms!);
    expect(source.latency?.samples).to.equal(30);
    expect([stats.decodeErrors, stats.badMessages, stats.reconnects]).to.deep.equal([0, 0, 0]);
  });

  it('getFrameInfo, every frame from the bridge carries its pts, keyframe flag and picture type: I on each keyframe, P between', async () => {
    const bridge = await serve('bridge');
    const source = await open(bridge.url);
    const infos: FrameInfo[] = [];
    for (let i = 0; i < 35; i++) {
      const frame = await within(source.read(), 60_000, `frame ${i}`);
      if (!frame) throw new Error(`the source ended after ${i} frames`);
      const info = getFrameInfo(frame);
      expect(info, `frame ${i} info`).to.be.an('object');
      expect(info?.timestampUs, 'the pts is the frame timestamp').to.equal(frame.timestamp);
      infos.push(info!);
      frame.close();
    }
    // The bridge's test pattern: constrained baseline (no B-frames), a keyframe every 30 frames; a viewer starts at one.
    const types = infos.map((info) => info.frameType).join('');
    expect(types.startsWith('I'), types).to.equal(true);
    for (const info of infos) expect(info.frameType, types).to.equal(info.key ? 'I' : 'P');
    const keys = infos.flatMap((info, i) => (info.key ? [i] : []));
    expect(keys.length, `two keyframes a second apart: ${types}`).to.be.at.least(2);
  });

  it('getFrameInfo, a passed-through stream with B-frames: frames come out in presentation order, each with its own I/P/B type', async () => {
    const bridge = await serve('bridge', { bFrames: true });
    const source = await open(bridge.url);
    const infos: FrameInfo[] = [];
    for (let i = 0; i < 45; i++) {
      const frame = await within(source.read(), 60_000, `frame ${i}`);
      if (!frame) throw new Error(`the source ended after ${i} frames`);
      const info = getFrameInfo(frame);
      expect(info?.timestampUs, `frame ${i}: the pts is the frame timestamp`).to.equal(frame.timestamp);
      infos.push(info!);
      frame.close();
    }
    const types = infos.map((info) => info.frameType ?? '?').join('');
    expect(types.startsWith('I'), types).to.equal(true);
    expect(types, 'every picture typed').not.to.include('?');
    expect(types).to.include('P');
    expect(types).to.include('B');
    for (const info of infos) expect(info.frameType === 'I', types).to.equal(info.key);
    // Presentation order (the decoder reorders): increasing pts; a B picture is shown before the P it refers to.
    const pts = infos.map((info) => info.timestampUs);
    expect(increasing(pts), pts.join(',')).to.equal(true);
    expect(types.at(-1) === 'B' || /B+[PI]/.test(types), types).to.equal(true);
  });

  it('BridgeSource, two viewers at once each get every frame; openSource({ bridge }) opens one', async () => {
    const bridge = await serve('bridge');
    const first = await open({ url: bridge.url, sourceId: 'testpattern' });
    const opened2 = await openSource({ bridge: `${bridge.url.replace('http', 'ws')}/ws` });
    if (!(opened2 instanceof BridgeSource)) throw new Error('openSource({ bridge }) did not open a BridgeSource');
    const second = opened2;
    opened.push(second);
    const [a, b] = await Promise.all([take(first, 15), take(second, 15)]);
    expect([...a.sizes, ...b.sizes]).to.deep.equal(['320x240', '320x240']);
    expect(first.url).to.match(/\/sources\/testpattern\/ws$/);
    expect(first.stats.framesSkipped + second.stats.framesSkipped).to.equal(0);
  });

  it('BridgeSource, a token is required: none or a wrong one → FW_ERR_UNAUTHORIZED (fatal), the right one works', async () => {
    const bridge = await serve('bridge', { token: TOKEN });
    for (const token of [undefined, 'wrong-token-0000']) {
      const error = (await rejection(() => open({ url: bridge.url, ...(token ? { token } : {}) }))) as FramewireError;
      expect([error.code, error.fatal], error.message).to.deep.equal(['FW_ERR_UNAUTHORIZED', true]);
      expect(error.message).not.to.contain('wrong-token');
    }
    const source = await open({ url: bridge.url, token: TOKEN });
    expect((await take(source, 5)).sizes.has('320x240')).to.equal(true);
  });

  it('BridgeSource, killing the bridge source process and then restarting the whole bridge: frames resume by themselves', async () => {
    const bridge = await serve('bridge', { keyframeIntervalFrames: 5 });
    const source = await open({ url: bridge.url, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    const errors: FramewireError[] = [];
    source.on('error', ({ error }) => errors.push(error));
    await take(source, 5);
    // ffmpeg dies: the bridge restarts it; the socket stays open and frames resume at a keyframe.
    await killBridgeSource(bridge);
    const before = source.stats.framesProduced;
    await until(async () => (await bridge.stats()).restarts >= 1, 'the bridge to restart its source');
    expect((await bridge.stats()).restarts).to.equal(1);
    await take(source, 10);
    expect(source.stats.framesProduced).to.be.above(before);
    expect(source.reconnects).to.equal(0);
    // The whole bridge restarts on the same port: the socket closes, the source reconnects with backoff.
    await restartBridge(bridge, 500);
    const deadline = Date.now() + 60_000;
    while (source.reconnects === 0 && Date.now() < deadline) (await within(source.read(), 60_000, 'frame'))?.close();
    expect(source.reconnects).to.be.at.least(1);
    const after = await take(source, 10);
    expect([...after.sizes]).to.deep.equal(['320x240']);
    expect(source.ended).to.equal(false);
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.include(['FW_ERR_CONNECTION_FAILED', false]);
    expect(errors.every((e) => !e.fatal)).to.equal(true);
  });

  it('BridgeSource, garbage on the socket (unknown messages, non-frame binaries, a corrupt keyframe) is ignored; frames still flow', async () => {
    const bridge = await serve('bridge', { keyframeIntervalFrames: 5 });
    const proxy = await serve('ws-proxy', { upstream: `${bridge.url.replace('http', 'ws')}/ws` });
    const errors: FramewireError[] = [];
    const source = await open(proxy.url);
    source.on('error', ({ error }) => errors.push(error));
    expect((await take(source, 20)).sizes).to.deep.equal(new Set(['320x240']));
    expect((await proxy.stats()).injected).to.equal(5);
    // Two text and two binary messages are not part of the protocol; the corrupt keyframe reaches the decoder.
    expect(source.stats.badMessages).to.equal(4);
    expect(source.ended).to.equal(false);
    // The corrupt keyframe fails in the decoder (during open(), before this listener), which is reset and
    // resumes at the next keyframe.
    expect(source.stats.decodeErrors).to.equal(1);
    for (const error of errors) expect([error.code, error.fatal]).to.deep.equal(['FW_ERR_DECODE_FAILED', false]);
  });

  it('BridgeSource, close() is idempotent, ends the source and leaves no frame behind', async () => {
    const bridge = await serve('bridge');
    const source = await open(bridge.url);
    const ends: string[] = [];
    source.on('end', ({ reason }) => ends.push(reason));
    const held = await within(source.read(), 60_000, 'frame');
    // Let decoded frames pile up in the queue, then close: the source closes them.
    await until(() => source.stats.framesQueued > 0, 'decoded frames in the queue');
    expect(source.stats.framesQueued).to.be.above(0);
    await Promise.all([source.close(), source.close()]);
    await source.close();
    expect(ends).to.deep.equal(['closed']);
    expect(source.stats.framesQueued).to.equal(0);
    expect(await source.read()).to.equal(null);
    // The consumer still owns the frame it read.
    expect(held && isClosed(held)).to.equal(false);
    held?.close();
  });

  it('BridgeSource, unreachable bridge → FW_ERR_CONNECTION_FAILED, unknown source → FW_ERR_NETWORK_FAILED, bad options → FW_ERR_INVALID_OPTION', async () => {
    const bridge = await serve('bridge');
    const down = (await rejection(() => open('ws://127.0.0.1:9/'))) as FramewireError;
    expect([down.code, down.fatal]).to.deep.equal(['FW_ERR_CONNECTION_FAILED', true]);
    const unknown = (await rejection(() => open({ url: bridge.url, sourceId: 'nope' }))) as FramewireError;
    expect([unknown.code, unknown.details['status']]).to.deep.equal(['FW_ERR_NETWORK_FAILED', 404]);
    for (const bad of [
      { url: 'ftp://127.0.0.1/' },
      { url: '' },
      { url: bridge.url, stallTimeoutMs: -1 },
      { url: bridge.url, sourceId: 'a/b' },
      { url: `${bridge.url}/ws`, sourceId: 'testpattern' },
    ]) {
      const error = (await rejection(() => open(bad))) as FramewireError;
      expect(error.code, JSON.stringify(bad)).to.equal('FW_ERR_INVALID_OPTION');
    }
  });
});
