import { FramewireError, assertOption } from '@framewire/core';

const GATHER_TIMEOUT_MS = 3000;

/**
 * The absolute http(s) URL of a WHEP/WHIP endpoint given as `url` (relative URLs resolve against the page);
 * throws `FW_ERR_INVALID_OPTION` naming `url` when it is empty, unparsable or of another scheme.
 */
export function parseHttpUrl(url: unknown): URL {
  assertOption(url instanceof URL || (typeof url === 'string' && url.length > 0), 'url must be a non-empty URL');
  let parsed: URL;
  try {
    parsed = new URL(String(url), typeof location === 'undefined' ? undefined : location.href);
  } catch {
    assertOption(false, `url must be a valid URL; got ${String(url)}`);
    throw new Error('unreachable');
  }
  assertOption(['http:', 'https:'].includes(parsed.protocol), `url must be http: or https:; got ${parsed.protocol}`);
  return parsed;
}

/** Keeps only the `a=candidate:` lines of `sdp` that `keep` accepts (all when `keep` is undefined). */
export function filterSdp(sdp: string, keep: ((candidate: string) => boolean) | undefined): string {
  if (!keep) return sdp;
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || keep(line.slice(2)))
    .join('\r\n');
}

/** Resolves once `pc` has gathered its ICE candidates, or after 3 s (then with what it has). */
export function iceGathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The error for a refused WHEP/WHIP `POST` (the bridge answers JSON `{ error: { code, message } }`): 401/403
 * `FW_ERR_UNAUTHORIZED` (fatal), 503 with `FW_ERR_CAPACITY_REACHED` that code, another 503
 * `FW_ERR_CONNECTION_FAILED` (restarting), anything else `FW_ERR_NETWORK_FAILED` (fatal).
 */
export function whepRefusal(status: number, body: string, url: string): FramewireError {
  let code = '';
  let message = body.slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? '';
    message = parsed.error?.message ?? message;
  } catch {
    // not JSON: keep the text
  }
  const details = { url, status, code };
  if (status === 401 || status === 403)
    return new FramewireError('FW_ERR_UNAUTHORIZED', `${url} refused the token`, {
      fatal: true,
      stage: 'auth',
      details,
    });
  if (status === 503 && code === 'FW_ERR_CAPACITY_REACHED')
    return new FramewireError('FW_ERR_CAPACITY_REACHED', `${url} serves its maximum number of sessions: ${message}`, {
      fatal: false,
      stage: 'network',
      details,
    });
  if (status === 503)
    return new FramewireError('FW_ERR_CONNECTION_FAILED', `${url} is restarting: ${message}`, {
      fatal: false,
      stage: 'network',
      details,
    });
  return new FramewireError('FW_ERR_NETWORK_FAILED', `${url} answered ${status}: ${code} ${message}`.trim(), {
    fatal: true,
    stage: 'network',
    details,
  });
}

/**
 * An `application/trickle-ice-sdpfrag` body (RFC 8840, as WHIP and WHEP `PATCH` it) carrying `candidates` of the
 * local description `sdp` (its ICE credentials and first media section: the bridge bundles everything on it),
 * with `a=end-of-candidates` when `end`.
 */
export function trickleIceFragment(sdp: string, candidates: readonly RTCIceCandidate[], end: boolean): string {
  const ufrag = /^a=ice-ufrag:(.*)$/m.exec(sdp)?.[1]?.trim() ?? '';
  const pwd = /^a=ice-pwd:(.*)$/m.exec(sdp)?.[1]?.trim() ?? '';
  const media = /^m=.*$/m.exec(sdp)?.[0]?.trim() ?? 'm=video 9 UDP/TLS/RTP/SAVPF 0';
  const mid = candidates[0]?.sdpMid ?? /^a=mid:(.*)$/m.exec(sdp)?.[1]?.trim() ?? '0';
  const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, media, `a=mid:${mid}`];
  for (const candidate of candidates) lines.push(`a=${candidate.candidate}`);
  if (end) lines.push('a=end-of-candidates');
  return `${lines.join('\r\n')}\r\n`;
}
