/*
 * ICE helpers for the bridge's werift peer connections that publish and push (WHIP): STUN kept on this machine,
 * candidates kept to the allowed addresses, gathering, and ICE restarts driven by a WHIP/WHEP PATCH.
 */
import { FramewireError, createLogger } from '@framewire/core';
import { isIP } from 'node:net';
import { RTCRtpCodecParameters, type PeerConfig, type RTCPeerConnection } from 'werift';
import type { LoopbackStunServer } from './loopback-stun-server.js';
import { candidateAddress, formatSdpFrag, type SdpFrag } from './trickle-ice-sdpfrag.js';

const log = createLogger('webrtc-ice');

/** An ICE server (the `RTCIceServer` shape). */
export interface WeriftIceServer {
  /** `stun:` or `turn:` URL(s). */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/**
 * The ICE servers to give werift: `iceServers`, plus a STUN server when they have none, because werift asks
 * `stun.l.google.com` whenever it has no STUN server. A TURN server answers STUN too; without any server, the
 * bridge's own STUN server on 127.0.0.1 (`loopbackStun()`, started on first use) does. `loopback` tells whether that
 * server is used (its server-reflexive candidates are copies of host candidates: drop them).
 */
export async function weriftIceServers(
  iceServers: readonly WeriftIceServer[],
  loopbackStun: () => Promise<LoopbackStunServer>,
): Promise<{ servers: WeriftIceServer[]; loopback: boolean }> {
  const urls = iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  if (urls.some((u) => u.startsWith('stun:'))) return { servers: iceServers.map((s) => ({ ...s })), loopback: false };
  const turn = urls.find((u) => /^turns?:/.test(u));
  if (turn) {
    const stun = `stun:${turn.replace(/^turns?:/, '').split('?')[0] ?? ''}`;
    return { servers: [...iceServers.map((s) => ({ ...s })), { urls: stun }], loopback: false };
  }
  return { servers: [...iceServers.map((s) => ({ ...s })), { urls: (await loopbackStun()).url }], loopback: true };
}

/**
 * The configuration of a werift peer connection that carries one H.264 video track (payload type `payloadType`,
 * `a=fmtp` `fmtp`, NACK and PLI feedback, FIR too with `fir`) and no audio, with `servers` (see
 * {@link weriftIceServers}) and host candidates kept to `iceAddresses` (loopback ones added when listed).
 */
export function weriftH264PeerConfig(
  h264: { payloadType: number; fmtp: string; fir: boolean },
  servers: WeriftIceServer[],
  iceAddresses: readonly string[],
): Partial<PeerConfig> {
  return {
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90_000,
          payloadType: h264.payloadType,
          parameters: h264.fmtp,
          rtcpFeedback: [
            { type: 'nack' },
            { type: 'nack', parameter: 'pli' },
            ...(h264.fir ? [{ type: 'ccm', parameter: 'fir' }] : []),
          ],
        }),
      ],
      audio: [],
    },
    headerExtensions: { video: [], audio: [] },
    iceServers: servers,
    iceStunGatherTimeout: 2,
    iceAdditionalHostAddresses: iceAddresses.filter((a) => isIP(a) !== 0),
    iceUseIpv6: iceAddresses.length === 0 || iceAddresses.some((a) => isIP(a) === 6),
  };
}

/** True for an mDNS (`….local`) candidate, which the bridge cannot resolve. */
export function isMdnsCandidate(candidate: string): boolean {
  return /\.local$/i.test(candidateAddress(candidate));
}

/**
 * Keeps only the `a=candidate` lines of `sdp` whose address is in `addresses` (all when empty) and that are not
 * mDNS; with `dropSrflx`, also drops server-reflexive candidates.
 */
export function keepCandidates(sdp: string, addresses: readonly string[], dropSrflx: boolean): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      if (isMdnsCandidate(line) || (dropSrflx && line.includes(' typ srflx '))) return false;
      return addresses.length === 0 || addresses.includes(candidateAddress(line));
    })
    .join('\r\n');
}

/** Resolves once `pc` has gathered its candidates. */
export function iceGatheringComplete(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const { unSubscribe } = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      unSubscribe();
      resolve();
    });
  });
}

/**
 * Restarts ICE on `pc` (which answered the client's offer) for a WHIP/WHEP `PATCH` carrying the client's new
 * `ice-ufrag`/`ice-pwd` and candidates: the previous offer with the new credentials is applied again (werift then
 * restarts its ICE agent with new credentials of its own), answered, gathered, and the client's candidates (kept to
 * `addresses`) are added. Resolves with the server's trickle-ice-sdpfrag: its new credentials and candidates.
 * Rejects with `FW_ERR_SDP_INVALID` when the fragment has no credentials or werift refuses it.
 */
export async function restartWeriftIce(
  pc: RTCPeerConnection,
  frag: SdpFrag,
  addresses: readonly string[],
  dropSrflx: boolean,
): Promise<string> {
  const { ufrag, pwd } = frag;
  const previous = pc.remoteDescription?.sdp;
  if (ufrag === undefined || pwd === undefined || previous === undefined)
    throw new FramewireError('FW_ERR_SDP_INVALID', 'an ICE restart fragment needs a=ice-ufrag and a=ice-pwd', {
      stage: 'webrtc',
    });
  const offer = previous
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .map((line) => {
      if (line.startsWith('a=ice-ufrag:')) return `a=ice-ufrag:${ufrag}`;
      if (line.startsWith('a=ice-pwd:')) return `a=ice-pwd:${pwd}`;
      return line;
    })
    .join('\r\n');
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await iceGatheringComplete(pc);
    for (const candidate of frag.candidates) {
      if (isMdnsCandidate(candidate.candidate)) continue;
      if (addresses.length > 0 && !addresses.includes(candidateAddress(candidate.candidate))) continue;
      await pc.addIceCandidate(candidate);
    }
    // werift 0.25 starts ICE checks only for a transport whose DTLS is not connected yet: after a restart DTLS
    // still is, so the restarted agent is started here (it resolves once connected; failures show in the state).
    for (const transport of pc.iceTransports) {
      if (transport.state === 'connected' || transport.state === 'closed') continue;
      transport.start().catch((error: unknown) => log.debug(`ICE restart: ${String(error)}`));
    }
  } catch (error) {
    throw new FramewireError('FW_ERR_SDP_INVALID', `the ICE restart was refused: ${(error as Error).message}`, {
      stage: 'webrtc',
      cause: error,
    });
  }
  const local = keepCandidates(pc.localDescription?.sdp ?? '', addresses, dropSrflx).split('\r\n');
  const value = (prefix: string): string => local.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
  const candidates = [...new Set(local.filter((l) => l.startsWith('a=candidate:')))];
  return formatSdpFrag(value('a=ice-ufrag:'), value('a=ice-pwd:'), candidates, value('a=mid:') || '0');
}
