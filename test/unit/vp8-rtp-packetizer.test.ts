// Vp8RtpPacketizer (packages/node-bridge/src/media/vp8-rtp-packetizer.ts) and IvfVp8Reader
// (packages/node-bridge/src/media/ivf-vp8-reader.ts): a real libvpx stream in IVF, read into frames and packetized
// into RTP (RFC 7741), checked against werift's own VP8 depacketizer.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { RtpPacket, Vp8RtpPayload } from 'werift';
import { IvfVp8Reader, type IvfVp8Frame } from '../../packages/node-bridge/src/media/ivf-vp8-reader.js';
import { Vp8RtpPacketizer } from '../../packages/node-bridge/src/media/vp8-rtp-packetizer.js';
import { vp8OutputArgs } from '../../packages/node-bridge/src/process/ffmpeg-args.js';
import { encodeTestPattern } from '../helpers/ffmpeg-test-pattern.js';

/** 30 frames of 640×360 test pattern encoded by the bridge's own VP8 arguments (keyframe every 10 frames), as IVF. */
function ivfStream(): Promise<Buffer> {
  return encodeTestPattern(30, vp8OutputArgs({ keyframeIntervalFrames: 10, bitrateBps: 2_000_000 }));
}

const isInvalidOption = (error: unknown): boolean =>
  error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION';

describe('IvfVp8Reader and Vp8RtpPacketizer (VP8 from ffmpeg to RTP, RFC 7741)', () => {
  let ivf: Buffer;
  let frames: IvfVp8Frame[];

  before(async () => {
    ivf = await ivfStream();
    frames = new IvfVp8Reader().push(ivf);
  });

  it('reads every frame of a libvpx IVF stream, keyframes where the interval puts them', () => {
    assert.equal(frames.length, 30);
    assert.deepEqual(
      frames.flatMap((f, i) => (f.key ? [i] : [])),
      [0, 10, 20],
    );
    // A keyframe carries the VP8 start code 9d 01 2a after its 3-byte frame tag.
    for (const f of frames.filter((frame) => frame.key))
      assert.deepEqual([...f.data.subarray(3, 6)], [0x9d, 0x01, 0x2a]);
  });

  it('reads the same frames when the stream arrives in small chunks', () => {
    const reader = new IvfVp8Reader();
    const chunked: IvfVp8Frame[] = [];
    for (let offset = 0; offset < ivf.length; offset += 777)
      chunked.push(...reader.push(ivf.subarray(offset, offset + 777)));
    assert.deepEqual(
      chunked.map((f) => f.data.length),
      frames.map((f) => f.data.length),
    );
  });

  it('refuses a stream that is not IVF VP8, and a frame over the limit', () => {
    assert.throws(() => new IvfVp8Reader().push(Buffer.alloc(64, 1)), RangeError);
    const vp9 = Buffer.from(ivf.subarray(0, 32));
    vp9.write('VP90', 8, 'latin1');
    assert.throws(() => new IvfVp8Reader().push(vp9), /not an IVF VP8 stream/);
    assert.throws(() => new IvfVp8Reader(100).push(ivf), /over the 100 byte limit/);
  });

  it('packetizes into packets of at most 1200 bytes that werift’s depacketizer reassembles', () => {
    const packetizer = new Vp8RtpPacketizer({ initialTimestamp: 1000, payloadType: 100 });
    let lastSequence: number | undefined;
    let lastPictureId: number | undefined;
    frames.forEach((frame, i) => {
      const out = packetizer.packetize(frame.data, (i * 1_000_000) / 30);
      assert.equal(out.key, frame.key);
      assert.equal(out.rtpTimestamp, 1000 + Math.round((i * 90_000) / 30));
      const chunks: Buffer[] = [];
      out.packets.forEach((buffer, j) => {
        assert.ok(buffer.length <= 1200, `packet of ${buffer.length} bytes`);
        const rtp = RtpPacket.deSerialize(buffer);
        assert.equal(rtp.header.payloadType, 100);
        assert.equal(rtp.header.timestamp, out.rtpTimestamp);
        assert.equal(rtp.header.marker, j === out.packets.length - 1);
        if (lastSequence !== undefined) assert.equal(rtp.header.sequenceNumber, (lastSequence + 1) & 0xffff);
        lastSequence = rtp.header.sequenceNumber;
        const payload = Vp8RtpPayload.deSerialize(rtp.payload);
        assert.equal(payload.sBit, j === 0 ? 1 : 0, 'S marks the first packet of the frame');
        assert.equal(payload.pid, 0);
        if (j === 0 && lastPictureId !== undefined) assert.equal(payload.pictureId, (lastPictureId + 1) & 0x7fff);
        if (j === 0) lastPictureId = payload.pictureId;
        if (j === 0) assert.equal(payload.isKeyframe, frame.key);
        chunks.push(payload.payload);
      });
      assert.deepEqual(Buffer.concat(chunks), frame.data, `frame ${i} reassembled`);
    });
  });

  it('refuses bad options and input with FW_ERR_INVALID_OPTION', () => {
    for (const options of [{ maxPacketBytes: 20 }, { payloadType: 128 }, { initialTimestamp: -1 }])
      assert.throws(() => new Vp8RtpPacketizer(options), isInvalidOption, JSON.stringify(options));
    const packetizer = new Vp8RtpPacketizer();
    assert.throws(() => packetizer.packetize(Buffer.alloc(0), 0), isInvalidOption);
    assert.throws(() => packetizer.packetize(Buffer.alloc(10), -1), isInvalidOption);
  });
});
