// offeredVideoCodecs (packages/node-bridge/src/webrtc/offer-video-codecs.ts): which video codec a browser's offer
// allows the bridge to send, H.264 ranked by profile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { offeredVideoCodecs } from '../../packages/node-bridge/src/webrtc/offer-video-codecs.js';

/** An offer whose video section lists `codecs` ([payload type, name, fmtp]) in that order. */
function offer(codecs: [number, string, string][], extra = ''): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    extra,
    `m=video 9 UDP/TLS/RTP/SAVPF ${codecs.map(([pt]) => pt).join(' ')}`,
    'a=recvonly',
    ...codecs.flatMap(([pt, name, fmtp]) => [
      `a=rtpmap:${pt} ${name}/90000`,
      ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : []),
    ]),
    '',
  ]
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .join('\r\n');
}

describe('offeredVideoCodecs (which codecs a viewer offer accepts)', () => {
  const cases: { name: string; sdp: string; h264: number | undefined; vp8: boolean }[] = [
    {
      name: 'Chromium-like: picks constrained baseline with packetization-mode 1 over the others',
      sdp: offer([
        [96, 'VP8', ''],
        [102, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f'],
        [104, 'H264', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f'],
        [106, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
        [112, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f'],
      ]),
      h264: 106,
      vp8: true,
    },
    {
      name: 'only packetization-mode 0 H.264: none usable',
      sdp: offer([[104, 'H264', 'packetization-mode=0;profile-level-id=42e01f']]),
      h264: undefined,
      vp8: false,
    },
    {
      name: 'high profile only: it decodes constrained baseline too',
      sdp: offer([[112, 'H264', 'packetization-mode=1;profile-level-id=640c1f']]),
      h264: 112,
      vp8: false,
    },
    {
      name: 'an unknown profile is not used',
      sdp: offer([[120, 'H264', 'packetization-mode=1;profile-level-id=f4001f']]),
      h264: undefined,
      vp8: false,
    },
    { name: 'VP8 only', sdp: offer([[96, 'VP8', '']]), h264: undefined, vp8: true },
    {
      name: 'VP9 and AV1 only',
      sdp: offer([
        [98, 'VP9', ''],
        [45, 'AV1', ''],
      ]),
      h264: undefined,
      vp8: false,
    },
    {
      name: 'a payload type listed in rtpmap but not on the m= line does not count',
      sdp: offer([[96, 'VP8', '']]).replace('a=recvonly', 'a=recvonly\r\na=rtpmap:106 H264/90000'),
      h264: undefined,
      vp8: true,
    },
    { name: 'no video section', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n', h264: undefined, vp8: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const codecs = offeredVideoCodecs(c.sdp);
      assert.equal(codecs.h264?.payloadType, c.h264);
      assert.equal(codecs.vp8, c.vp8);
      assert.equal(codecs.vp8PayloadType, c.vp8 ? 96 : undefined);
    });
  }

  it('reads only the first video section and keeps the offered fmtp', () => {
    const first = offer([[106, 'H264', 'packetization-mode=1;profile-level-id=42e01f']]);
    const second = `m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n`;
    const codecs = offeredVideoCodecs(`${first}${second}`);
    assert.equal(codecs.vp8, false);
    assert.deepEqual(codecs.h264, {
      payloadType: 106,
      profileLevelId: '42e01f',
      fmtp: 'packetization-mode=1;profile-level-id=42e01f',
    });
  });
});
