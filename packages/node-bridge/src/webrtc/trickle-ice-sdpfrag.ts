/*
 * The `application/trickle-ice-sdpfrag` bodies (RFC 8840) that WHIP and WHEP clients PATCH to a session: trickled
 * candidates, and for an ICE restart the new ICE user fragment and password. Pure: no I/O.
 */

/** An ICE candidate of a fragment, with the media section it belongs to. */
export interface SdpFragCandidate {
  /** `candidate:…` (no `a=`). */
  candidate: string;
  /** The `a=mid` of its media section; `0` when the fragment names none. */
  sdpMid: string;
}

/** What a trickle-ice-sdpfrag body carries. */
export interface SdpFrag {
  /** `a=ice-ufrag`: set when the client restarts ICE. */
  ufrag: string | undefined;
  /** `a=ice-pwd`: set when the client restarts ICE. */
  pwd: string | undefined;
  /** The `a=candidate` lines, in order. */
  candidates: SdpFragCandidate[];
  /** True when the fragment has `a=end-of-candidates`. */
  endOfCandidates: boolean;
}

/** Reads a trickle-ice-sdpfrag body; lines it does not know are ignored (RFC 8840 allows more attributes). */
export function parseSdpFrag(body: string): SdpFrag {
  const frag: SdpFrag = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid = '0';
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('a=mid:')) mid = line.slice('a=mid:'.length).trim();
    else if (line.startsWith('a=ice-ufrag:')) frag.ufrag = line.slice('a=ice-ufrag:'.length).trim();
    else if (line.startsWith('a=ice-pwd:')) frag.pwd = line.slice('a=ice-pwd:'.length).trim();
    else if (line.startsWith('a=candidate:')) frag.candidates.push({ candidate: line.slice(2), sdpMid: mid });
    else if (line === 'a=end-of-candidates') frag.endOfCandidates = true;
  }
  return frag;
}

/** The address of a `candidate:…` line (its fifth field), or `''`. */
export function candidateAddress(candidate: string): string {
  return candidate.replace(/^a=/, '').split(/\s+/)[4] ?? '';
}

/**
 * Writes the fragment a server answers an ICE restart with: its new `ice-ufrag` and `ice-pwd`, then its candidates
 * under `a=mid:<mid>` and `a=end-of-candidates` (all of them are known when it answers).
 */
export function formatSdpFrag(ufrag: string, pwd: string, candidates: string[], mid: string): string {
  const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, `a=mid:${mid}`];
  for (const candidate of candidates) lines.push(`a=${candidate.replace(/^a=/, '')}`);
  lines.push('a=end-of-candidates');
  return `${lines.join('\r\n')}\r\n`;
}
