// A receive-only viewer of a Janus streaming mountpoint in Node (werift), for the benches: it speaks Janus's HTTP API
// through the project's own client (session, attach, watch, the answer with start, a long poll for Janus's offer and
// trickled candidates), answers with a host candidate on 127.0.0.1 only, counts what arrives and decodes nothing.
// Janus gathers no loopback candidate, so its candidates are relay ones on the coturn at 127.0.0.1; werift's own
// gathering uses the loopback STUN server `stunUrl` (its fallback would be a public one).
import { JanusHttpSession } from '@framewire/core';
import { RTCIceCandidate, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/**
 * Keeps only candidates on 127.0.0.1.
 * @param {string} sdp
 * @returns {string}
 */
const loopbackOnly = (sdp) =>
  sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || line.split(/\s+/)[4] === '127.0.0.1')
    .join('\r\n');

/**
 * Watches the mountpoint described as `description` on the Janus at `url`; resolves once the first RTP packet of
 * video arrived. `counts` holds the video's RTP payload bytes and frames (marker bits). `close()` hangs up.
 * @param {{ url: string; apiSecret: string; description: string; stunUrl: string; timeoutMs?: number }} options
 * @returns {Promise<{ counts: { bytes: number; frames: number }; close(): Promise<void> }>}
 */
export async function openJanusWeriftViewer({ url, apiSecret, description, stunUrl, timeoutMs = 60_000 }) {
  const session = await JanusHttpSession.create(url, { apiSecret });
  const handle = await session.attach('janus.plugin.streaming');
  const list = /** @type {{ id: number; description?: string }[]} */ (
    (await session.message(handle, { request: 'list' }))?.['list'] ?? []
  );
  const mountpoint = list.find((m) => m.description === description);
  if (!mountpoint) throw new Error(`${url} has no mountpoint described as ${description}`);

  const pc = new RTCPeerConnection({
    iceServers: [{ urls: stunUrl }],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    headerExtensions: { video: [], audio: [] },
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90_000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
    },
  });
  const counts = { bytes: 0, frames: 0 };
  /** @type {() => void} */
  let firstPacket = () => undefined;
  const flowing = new Promise((resolve) => (firstPacket = () => resolve(undefined)));
  pc.onTrack.subscribe((track) => {
    if (track.kind !== 'video') return;
    track.onReceiveRtp.subscribe((rtp) => {
      counts.bytes += rtp.payload.length;
      if (rtp.header.marker) counts.frames++;
      firstPacket();
    });
  });

  let closed = false;
  const controller = new AbortController();
  /** Janus's events, one at a time: the offer is answered before the candidates trickled after it are added. */
  const pump = (async () => {
    while (!closed) {
      const events = await session.poll(controller.signal).catch((error) => {
        if (closed) return [];
        throw error;
      });
      for (const event of events) {
        if (event.janus === 'trickle') {
          const candidate = event.candidate;
          if (candidate?.candidate && candidate.candidate.split(/\s+/)[4] === '127.0.0.1')
            await pc.addIceCandidate(
              new RTCIceCandidate({
                candidate: candidate.candidate,
                sdpMid: candidate.sdpMid ?? undefined,
                sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
              }),
            );
          continue;
        }
        if (event.jsep?.type !== 'offer') continue;
        await pc.setRemoteDescription({ type: 'offer', sdp: loopbackOnly(event.jsep.sdp) });
        await pc.setLocalDescription(await pc.createAnswer());
        if (pc.iceGatheringState !== 'complete')
          await new Promise((resolve) =>
            pc.iceGatheringStateChange.subscribe((state) => {
              if (state === 'complete') resolve(undefined);
            }),
          );
        const answer = loopbackOnly(pc.localDescription?.sdp ?? '');
        await session.message(handle, { request: 'start' }, { type: 'answer', sdp: answer });
        await session.trickle(handle, { completed: true });
      }
    }
  })();
  await session.message(handle, { request: 'watch', id: mountpoint.id });
  let timer;
  try {
    await Promise.race([
      flowing,
      pump.then(() => Promise.reject(new Error('the Janus session ended before any video arrived'))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no video from Janus after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  pump.catch(() => undefined);
  // Janus ends a session that stays silent for its session_timeout; the long poll alone does not count everywhere.
  const keepalive = setInterval(() => void session.keepalive().catch(() => undefined), 15_000);
  return {
    counts,
    close: async () => {
      closed = true;
      clearInterval(keepalive);
      controller.abort();
      await session.detach(handle);
      await session.destroy();
      await pc.close();
    },
  };
}
