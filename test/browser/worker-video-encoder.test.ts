import { expect } from 'chai';
import { FramewireError, WorkerVideoEncoder, avcCodecForSize, stampCaptureTime } from '@framewire/browser-sdk';
import { isClosed, rejection, solidFrame } from '../helpers/browser.js';

interface Collected {
  chunks: EncodedVideoChunk[];
  decoderConfig: VideoDecoderConfig | undefined;
  captureTimes: (number | undefined)[];
}

async function encodeFrames(
  encoder: WorkerVideoEncoder,
  count: number,
  width: number,
  height: number,
): Promise<Collected> {
  const collected: Collected = { chunks: [], decoderConfig: undefined, captureTimes: [] };
  encoder.on('chunk', ({ chunk, decoderConfig, captureTimeMs }) => {
    collected.chunks.push(chunk);
    collected.decoderConfig ??= decoderConfig;
    collected.captureTimes.push(captureTimeMs);
  });
  for (let i = 0; i < count; i++) {
    const frame = stampCaptureTime(solidFrame(i * 33_333, width, height, `hsl(${i * 12} 80% 50%)`), 1_000_000 + i);
    await encoder.encode(frame, { keyFrame: i === 0 });
    expect(isClosed(frame), 'the frame was transferred to the worker').to.equal(true);
  }
  await encoder.flush();
  return collected;
}

async function decodeAll(config: VideoDecoderConfig, chunks: EncodedVideoChunk[]): Promise<VideoFrame[]> {
  const frames: VideoFrame[] = [];
  const decoder = new VideoDecoder({
    output: (f) => frames.push(f),
    error: (e) => {
      throw e;
    },
  });
  decoder.configure(config);
  for (const chunk of chunks) decoder.decode(chunk);
  await decoder.flush();
  decoder.close();
  return frames;
}

describe('WorkerVideoEncoder', () => {
  for (const [name, codec] of [
    ['H.264', avcCodecForSize(320, 240)],
    ['VP8', 'vp8'],
    ['VP9', 'vp09.00.10.08'],
    ['AV1', 'av01.0.04M.08'],
  ] as const) {
    it(`WorkerVideoEncoder, encodes ${name} in its worker and the browser's decoder reads it back`, async () => {
      const encoder = await WorkerVideoEncoder.open({ codec, width: 320, height: 240, keyframeIntervalFrames: 10 });
      const { chunks, decoderConfig, captureTimes } = await encodeFrames(encoder, 20, 320, 240);
      encoder.close();
      expect(chunks).to.have.length(20);
      expect(chunks[0]!.type).to.equal('key');
      expect(chunks[10]!.type, 'keyframeIntervalFrames').to.equal('key');
      expect(chunks.map((c) => c.timestamp)).to.deep.equal(chunks.map((_, i) => i * 33_333));
      expect(captureTimes).to.deep.equal(chunks.map((_, i) => 1_000_000 + i));
      expect(decoderConfig?.codec).to.be.a('string');
      const frames = await decodeAll(decoderConfig!, chunks);
      expect(frames).to.have.length(20);
      expect([frames[0]!.displayWidth, frames[0]!.displayHeight]).to.deep.equal([320, 240]);
      for (const f of frames) f.close();
    });
  }

  it('WorkerVideoEncoder, picks an H.264 level that fits the frame size', () => {
    expect(avcCodecForSize(1280, 720)).to.equal('avc1.64001f');
    expect(avcCodecForSize(1920, 1080)).to.equal('avc1.640028');
    expect(avcCodecForSize(3840, 2160)).to.equal('avc1.640033');
  });

  it('WorkerVideoEncoder, an unsupported codec fails with FW_ERR_CODEC_UNSUPPORTED', async () => {
    const error = (await rejection(() =>
      WorkerVideoEncoder.open({ codec: 'hvc1.1.6.L93.B0', width: 320, height: 240 }),
    )) as FramewireError;
    expect(error).to.be.instanceOf(FramewireError);
    expect(error.code).to.equal('FW_ERR_CODEC_UNSUPPORTED');
  });

  it('WorkerVideoEncoder, bad options and use after close fail with typed errors, closing the frame', async () => {
    for (const options of [
      { codec: '', width: 320, height: 240 },
      { codec: 'vp8', width: 0, height: 240 },
      { codec: 'vp8', width: 320, height: 240, bitrateBps: -5 },
      { codec: 'vp8', width: 320, height: 240, keyframeIntervalFrames: 1.5 },
      // The earlier spelling is still read (and checked), for one release.
      { codec: 'vp8', width: 320, height: 240, keyFrameIntervalFrames: 1.5 },
      { codec: 'vp8', width: 320, height: 240, fit: 'cover' as 'contain' },
    ]) {
      const error = (await rejection(() => WorkerVideoEncoder.open(options))) as FramewireError;
      expect(error.code, JSON.stringify(options)).to.equal('FW_ERR_INVALID_OPTION');
    }
    // The deprecated spelling still opens an encoder, for one release.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const encoder = await WorkerVideoEncoder.create({ codec: 'vp8', width: 64, height: 48 });
    encoder.close();
    encoder.close();
    const frame = solidFrame(0);
    const error = (await rejection(() => encoder.encode(frame))) as FramewireError;
    expect(error.code).to.equal('FW_ERR_CLOSED');
    expect(isClosed(frame)).to.equal(true);
  });
});
