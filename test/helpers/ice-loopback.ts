/**
 * Keeps WebRTC tests on loopback: a candidate passes only when its address is 127.0.0.1 or ::1.
 * Apply it to every candidate before handing it to the other peer. Isomorphic (browser and Node).
 */
export function isLoopbackCandidate(candidate: string | { candidate?: string | null } | null | undefined): boolean {
  const line = typeof candidate === 'string' ? candidate : (candidate?.candidate ?? '');
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
  const address = line.replace(/^a=/, '').split(/\s+/)[4];
  return address === '127.0.0.1' || address === '::1';
}

/** Removes every non-loopback `a=candidate` line from an SDP (for peers that gather without trickle). */
export function loopbackOnlySdp(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || isLoopbackCandidate(line))
    .join('\r\n');
}
