// The bridge's H.264 data-channel sender (packages/node-bridge/src/webrtc/data-channel-frame-sender.ts): what a
// viewer's `fw.h264` channel gets for each access unit, from the first keyframe on, and what happens when the
// channel fills up or closes while a message is being sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataChannelMessageAssembler, decodeWsFrame } from '../../packages/node-bridge/src/protocol.js';
import {
  DataChannelFrameSender,
  type FrameDataChannel,
} from '../../packages/node-bridge/src/webrtc/data-channel-frame-sender.js';

/** A 160×120 constrained-baseline SPS (as libx264 writes it), in Annex B. */
const SPS = Uint8Array.from(Buffer.from('000000016742c00ad902847e5c044000000300400000030083c48992', 'hex'));
const slice = (type: number, bytes: number): Uint8Array =>
  Uint8Array.from([0, 0, 0, 1, type, ...new Array<number>(bytes).fill(0xab)]);
const unit = (key: boolean, bytes = 10) => ({
  id: 's',
  key,
  timestampUs: 0,
  captureTimeMs: 1,
  data: key ? Uint8Array.from([...SPS, ...slice(0x65, bytes)]) : slice(0x41, bytes),
});

/** A channel that records what it is given, and can be made full or made to fail after `failAfter` sends. */
class RecordingChannel implements FrameDataChannel {
  readyState = 'open';
  bufferedAmount = 0;
  failAfter = Infinity;
  readonly sent: (string | Uint8Array)[] = [];
  send(data: string | Uint8Array): void {
    if (this.sent.length >= this.failAfter) throw new Error("RTCDataChannel.readyState is not 'open'");
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 'closed';
  }
  /** The sequence numbers of the frame messages sent, joined from their chunks as a viewer joins them. */
  sequences(): number[] {
    const assembler = new DataChannelMessageAssembler();
    return this.sent.flatMap((m) => {
      const message = typeof m === 'string' ? undefined : assembler.push(m);
      return message ? [decodeWsFrame(message)?.header.sequence ?? -1] : [];
    });
  }
}

describe('DataChannelFrameSender', () => {
  it('starts at a keyframe with its config, and sends the config again only when it changes', () => {
    const channel = new RecordingChannel();
    const sender = new DataChannelFrameSender(channel);
    for (const key of [false, true, false, true]) sender.send(unit(key));
    assert.equal(typeof channel.sent[0], 'string');
    assert.deepEqual(JSON.parse(channel.sent[0] as string), {
      type: 'config',
      codec: 'avc1.42c00a',
      codedWidth: 160,
      codedHeight: 120,
    });
    assert.equal(channel.sent.filter((m) => typeof m === 'string').length, 1);
    assert.deepEqual(channel.sequences(), [0, 1, 2]);
  });

  it('sends nothing before the channel opens', () => {
    const channel = new RecordingChannel();
    channel.readyState = 'connecting';
    new DataChannelFrameSender(channel).send(unit(true));
    assert.deepEqual(channel.sent, []);
  });

  it('a full channel skips to the next keyframe, and the sequence shows the gap', () => {
    const channel = new RecordingChannel();
    const sender = new DataChannelFrameSender(channel);
    sender.send(unit(true));
    channel.bufferedAmount = 2 * 1024 * 1024;
    sender.send(unit(false));
    channel.bufferedAmount = 0;
    sender.send(unit(false));
    sender.send(unit(true));
    assert.deepEqual(channel.sequences(), [0, 3]);
  });

  it('a channel that closes while a message is sent throws nothing; a viewer that stays resumes at a keyframe', () => {
    const channel = new RecordingChannel();
    const sender = new DataChannelFrameSender(channel);
    sender.send(unit(true));
    channel.failAfter = channel.sent.length;
    assert.doesNotThrow(() => sender.send(unit(false)));
    assert.doesNotThrow(() => sender.send(unit(true, 100_000)));
    channel.failAfter = Infinity;
    sender.send(unit(false));
    sender.send(unit(true));
    assert.deepEqual(channel.sequences(), [0, 4]);
  });
});
