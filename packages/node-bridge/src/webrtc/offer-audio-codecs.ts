/*
 * Reads whether an SDP offer accepts Opus audio (its first m=audio section), to give a viewer the source's audio.
 */

/** The Opus payload type of an offer. */
export interface OfferedOpus {
  /** The payload type the offer assigned (Chromium: 111). */
  payloadType: number;
  /** Its `a=fmtp` parameters as offered, e.g. `minptime=10;useinbandfec=1`. */
  fmtp: string;
}

/** The Opus payload type of `sdp`'s first `m=audio` section that is not rejected; `undefined` when none. */
export function offeredOpus(sdp: string): OfferedOpus | undefined {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('m=audio '));
  if (start < 0) return undefined;
  let end = lines.findIndex((line, i) => i > start && line.startsWith('m='));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end);
  const fields = (section[0] ?? '').trim().split(/\s+/);
  if (fields[1] === '0') return undefined;
  const text = section.join('\n');
  if (/^a=(?:sendonly|inactive)\s*$/m.test(text)) return undefined;
  for (const pt of fields.slice(3)) {
    if (!new RegExp(`^a=rtpmap:${pt}\\s+opus/48000(?:/2)?\\s*$`, 'im').test(text)) continue;
    const fmtp = new RegExp(`^a=fmtp:${pt}\\s+(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    return { payloadType: Number(pt), fmtp };
  }
  return undefined;
}
