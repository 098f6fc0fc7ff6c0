// OpusRtpPacketizer (packages/node-bridge/src/media/opus-rtp-packetizer.ts): Opus packets to RTP (RFC 7587),
// read back with werift's RTP parser; with the offer parser and the sender reports on the capture clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { RtpPacket } from 'werift';
import { OpusRtpPacketizer } from '../../packages/node-bridge/src/media/opus-rtp-packetizer.js';
import {
  ntpTimestampOf,
  useCaptureClockSenderReports,
} from '../../packages/node-bridge/src/webrtc/capture-clock-sender-reports.js';
import { offeredOpus } from '../../packages/node-bridge/src/webrtc/offer-audio-codecs.js';

describe('OpusRtpPacketizer', () => {
  it('carries each Opus packet whole, 48 kHz timestamps from timestampUs, consecutive sequence numbers', () => {
    const packetizer = new OpusRtpPacketizer({ ssrc: 7, initialSequenceNumber: 0xffff, initialTimestamp: 0xffffff00 });
    const opus = [Buffer.from([0xf8, 1, 2, 3]), Buffer.from([0xf8, 4, 5])];
    const rtp = opus.map((data, i) => RtpPacket.deSerialize(packetizer.packetize(data, i * 20_000)));
    assert.deepEqual(
      rtp.map((p) => [p.header.version, p.header.payloadType, p.header.marker, p.header.ssrc, p.header.sequenceNumber]),
      [
        [2, 111, false, 7, 0xffff],
        [2, 111, false, 7, 0],
      ],
    );
    assert.deepEqual(
      rtp.map((p) => p.header.timestamp),
      [0xffffff00, (0xffffff00 + 960) >>> 0],
    );
    assert.deepEqual(
      rtp.map((p) => [...p.payload]),
      opus.map((data) => [...data]),
    );
  });
  it('refuses an empty packet and one longer than Opus allows with FW_ERR_FRAME_TOO_LARGE', () => {
    const packetizer = new OpusRtpPacketizer();
    for (const size of [0, 4000])
      assert.throws(
        () => packetizer.packetize(Buffer.alloc(size), 0),
        (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_FRAME_TOO_LARGE',
      );
  });
  it('refuses a payload type outside 0..127', () => {
    assert.throws(() => new OpusRtpPacketizer({ payloadType: 200 }), FramewireError);
  });
});

describe('offeredOpus', () => {
  const offer = (audio: string): string =>
    ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', audio].join('\r\n');
  it("finds Chromium's Opus payload type and its parameters", () => {
    const sdp = offer(
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:9 G722/8000',
    );
    assert.deepEqual(offeredOpus(sdp), { payloadType: 111, fmtp: 'minptime=10;useinbandfec=1' });
  });
  for (const [name, audio] of [
    ['no audio section', ''],
    ['no Opus', 'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000'],
    ['a rejected section', 'm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2'],
    ['a send-only section', 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=rtpmap:111 opus/48000/2'],
  ] as const) {
    it(`gives nothing for ${name}`, () => assert.equal(offeredOpus(offer(audio)), undefined));
  }
});

describe('sender reports on the capture clock', () => {
  it('writes NTP timestamps with a binary fraction', () => {
    assert.equal(ntpTimestampOf(0), 2_208_988_800n << 32n);
    assert.equal(ntpTimestampOf(1500), ((2_208_988_800n + 1n) << 32n) | 0x80000000n);
  });
  it("pairs the wall clock with the RTP time the stream reaches then, after the sender's offset", () => {
    const sender = { ntpTimestamp: 5n, rtpTimestamp: 6, timestampOffset: 1000 };
    let now = 10_000;
    const state: { latest?: { rtpTimestamp: number; captureTimeMs: number } } = {};
    const restore = useCaptureClockSenderReports(
      sender as never,
      48_000,
      () => state.latest,
      () => now,
    );
    assert.deepEqual([sender.ntpTimestamp, sender.rtpTimestamp], [5n, 6], "werift's values before any packet");
    sender.rtpTimestamp = 7; // werift writes after each packet
    state.latest = { rtpTimestamp: 96_000, captureTimeMs: 9_950 };
    now = 10_001;
    assert.equal(sender.rtpTimestamp, 96_000 + 2448 + 1000);
    assert.equal(sender.ntpTimestamp, ntpTimestampOf(10_001));
    restore();
    assert.equal(sender.rtpTimestamp, 7);
  });
});
