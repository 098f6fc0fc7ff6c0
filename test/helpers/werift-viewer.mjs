// A receive-only WebRTC viewer in Node (werift) of a bridge's `/offer`, on loopback only; plain JavaScript so that
// the benches (run by node itself) use it as the tests do.
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/**
 * Keeps only host candidates on 127.0.0.1.
 * @param {string} sdp
 * @returns {string}
 */
const loopbackOnly = (sdp) =>
  sdp
    .split('\r\n')
    .filter(
      (line) =>
        !line.startsWith('a=candidate:') || (line.split(/\s+/)[4] === '127.0.0.1' && line.includes(' typ host')),
    )
    .join('\r\n');

/**
 * Offers recvonly video in `codec` only to `offerUrl` (a bridge's `/offer`) from a werift peer connection with a
 * host candidate on 127.0.0.1 and the loopback STUN server `stunUrl` (werift's fallback would be a public one).
 * Counts what arrives (RTP payload bytes; frames = packets with the marker bit); does not decode. Rejects when the
 * offer is refused. `close()` DELETEs the session and closes the peer connection.
 * @param {string} offerUrl
 * @param {'h264' | 'vp8'} codec
 * @param {string} stunUrl
 * @returns {Promise<{ counts: { bytes: number; frames: number }; location: string; close(): Promise<void> }>}
 */
export async function openWeriftViewer(offerUrl, codec, stunUrl) {
  const h264 = codec === 'h264';
  const pc = new RTCPeerConnection({
    iceServers: [{ urls: stunUrl }],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    headerExtensions: { video: [], audio: [] },
    codecs: {
      audio: [],
      video: [
        new RTCRtpCodecParameters({
          mimeType: h264 ? 'video/H264' : 'video/VP8',
          clockRate: 90_000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          ...(h264 ? { parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' } : {}),
        }),
      ],
    },
  });
  const counts = { bytes: 0, frames: 0 };
  const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
  transceiver.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe((rtp) => {
      counts.bytes += rtp.payload.length;
      if (rtp.header.marker) counts.frames++;
    }),
  );
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((resolve) =>
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') resolve(undefined);
      }),
    );
  const post = () =>
    fetch(offerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: loopbackOnly(pc.localDescription?.sdp ?? ''),
    });
  // A kept-alive connection that the server closed at that moment (its idle timeout; more likely when the machine is
  // loaded) fails with ECONNRESET or "other side closed": the offer was not answered, so it is sent once more.
  const response = await post().catch((error) => {
    const code = error?.cause?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw error;
    return post();
  });
  const body = await response.text();
  if (response.status !== 201) {
    await pc.close();
    throw new Error(`offer refused: ${response.status} ${body}`);
  }
  await pc.setRemoteDescription({ type: 'answer', sdp: loopbackOnly(body) });
  const location = new URL(response.headers.get('location') ?? '', offerUrl).href;
  return {
    counts,
    location,
    close: async () => {
      await fetch(location, { method: 'DELETE' }).catch(() => undefined);
      await pc.close();
    },
  };
}
