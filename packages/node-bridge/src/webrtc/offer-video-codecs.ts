/*
 * Reads which video codecs an SDP offer accepts (its first m=video section), to choose how a viewer is served.
 */

/** An H.264 payload type of an offer that the bridge can send to. */
export interface OfferedH264 {
  /** The payload type the offer assigned. */
  payloadType: number;
  /** Its `profile-level-id` (lower case, six hex digits). */
  profileLevelId: string;
  /** Its `a=fmtp` parameters as offered, e.g. `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`. */
  fmtp: string;
}

/** What the first video section of an offer accepts. */
export interface OfferedVideoCodecs {
  /** The best H.264 payload type with packetization-mode 1 for a constrained-baseline stream, if any. */
  h264: OfferedH264 | undefined;
  /** True when the offer accepts VP8. */
  vp8: boolean;
  /** The offer's first VP8 payload type, if any. */
  vp8PayloadType: number | undefined;
}

/**
 * How well a `profile-level-id` suits a constrained-baseline stream (what the bridge's encoders write), best first:
 * constrained baseline (`42` with constraint_set1), baseline, main, high; `undefined` for other profiles.
 */
function profileRank(profileLevelId: string): number | undefined {
  const profile = profileLevelId.slice(0, 2);
  const constrained = (Number.parseInt(profileLevelId.slice(2, 4), 16) & 0x40) !== 0;
  if (profile === '42') return constrained ? 0 : 1;
  if (profile === '4d') return 2;
  if (profile === '64') return 3;
  return undefined;
}

/** The video codecs of `sdp`'s first `m=video` section (none when there is no such section). */
export function offeredVideoCodecs(sdp: string): OfferedVideoCodecs {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('m=video '));
  if (start < 0) return { h264: undefined, vp8: false, vp8PayloadType: undefined };
  let end = lines.findIndex((line, i) => i > start && line.startsWith('m='));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end);
  const payloadTypes = (section[0] ?? '').trim().split(/\s+/).slice(3);
  const names = new Map<string, string>();
  const fmtps = new Map<string, string>();
  for (const line of section) {
    const rtpmap = /^a=rtpmap:(\d+)\s+([\w-]+)\/90000/i.exec(line);
    if (rtpmap?.[1] && rtpmap[2]) names.set(rtpmap[1], rtpmap[2].toUpperCase());
    const fmtp = /^a=fmtp:(\d+)\s+(.*)$/.exec(line.trim());
    if (fmtp?.[1] && fmtp[2]) fmtps.set(fmtp[1], fmtp[2]);
  }
  const candidates: OfferedH264[] = [];
  for (const pt of payloadTypes) {
    if (names.get(pt) !== 'H264') continue;
    const fmtp = fmtps.get(pt) ?? '';
    const params = new Map(
      fmtp.split(';').map((pair) => {
        const [key = '', value = ''] = pair.split('=');
        return [key.trim().toLowerCase(), value.trim().toLowerCase()] as const;
      }),
    );
    const profileLevelId = params.get('profile-level-id') ?? '42001f';
    if (params.get('packetization-mode') !== '1' || !/^[0-9a-f]{6}$/.test(profileLevelId)) continue;
    candidates.push({ payloadType: Number(pt), profileLevelId, fmtp });
  }
  const h264 = candidates
    .filter((c) => profileRank(c.profileLevelId) !== undefined)
    .sort((a, b) => (profileRank(a.profileLevelId) ?? 0) - (profileRank(b.profileLevelId) ?? 0))
    .at(0);
  const vp8 = payloadTypes.find((pt) => names.get(pt) === 'VP8');
  return { h264, vp8: vp8 !== undefined, vp8PayloadType: vp8 === undefined ? undefined : Number(vp8) };
}
