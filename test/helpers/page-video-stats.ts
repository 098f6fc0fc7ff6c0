import { waitUntil } from './node.js';

/** What a page's peer connection reports from `getStats()` about the video it receives. */
export interface InboundVideoStats {
  /** Video frames decoded so far. */
  framesDecoded: number;
  /** The codec's MIME type (`video/H264`, `video/VP8`), `''` before any. */
  codec: string;
  /** The connection state. */
  state: string;
}

/**
 * Page-side (installed on every page of `openPeerPage` as `window.inboundVideoStats`): the decoded frames and codec
 * of `pc`'s inbound video, and its connection state.
 */
export async function inboundVideoStats(pc: RTCPeerConnection): Promise<InboundVideoStats> {
  let framesDecoded = 0;
  let codecId = '';
  const report = await pc.getStats();
  report.forEach((s: { type: string; kind?: string; framesDecoded?: number; codecId?: string }) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
    framesDecoded = s.framesDecoded ?? 0;
    codecId = s.codecId ?? '';
  });
  const codec = (report.get(codecId) as { mimeType?: string } | undefined)?.mimeType ?? '';
  return { framesDecoded, codec, state: pc.connectionState };
}

/**
 * Waits (up to `timeoutMs`) until `stats()` reports `count` more decoded frames than when called, and resolves with
 * those stats; `what` names the wait in the timeout error.
 */
export async function decodesMore(
  stats: () => Promise<InboundVideoStats>,
  count: number,
  what: string,
  timeoutMs = 60_000,
): Promise<InboundVideoStats> {
  const start = (await stats()).framesDecoded;
  return waitUntil(
    async () => {
      const now = await stats();
      return now.framesDecoded >= start + count ? now : undefined;
    },
    what,
    timeoutMs,
  );
}

declare global {
  interface Window {
    /** Set by openPeerPage (test/helpers/peers.ts): {@link inboundVideoStats}. */
    inboundVideoStats: typeof inboundVideoStats;
  }
}
