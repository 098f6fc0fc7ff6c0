import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { PeerLink, type PeerConnectionConstructor } from '@framewire/browser-sdk/network';
import type { SignalPayload } from '@framewire/signaling/protocol';
import { isLoopbackCandidate } from '../helpers/ice-loopback.js';
import { waitUntil } from '../helpers/node.js';
import { settleWrtc, wrtc } from '../helpers/peers.js';

// wrtc must not meet the process teardown with objects still waiting for finalization (see settleWrtc).
after(() => settleWrtc());

/** Delivers a signal after 0 to `maxDelayMs` ms, keeping the order of one direction as a WebSocket would. */
function courier(maxDelayMs: number): (deliver: () => void) => void {
  let last = Promise.resolve();
  return (deliver) => {
    const delay = Math.random() * maxDelayMs;
    last = last.then(() => new Promise<void>((resolve) => setTimeout(resolve, delay))).then(deliver);
  };
}

const Wrtc = wrtc.RTCPeerConnection as PeerConnectionConstructor;

/** wrtc's RTCPeerConnection whose createOffer takes `ms` longer, as on a loaded machine. */
const slowOffers = (ms: number): PeerConnectionConstructor =>
  function SlowOfferPeerConnection(configuration?: RTCConfiguration): RTCPeerConnection {
    const pc = new Wrtc(configuration);
    // Typed as the promise form only: the callback overload is what the lint calls deprecated.
    const offers = pc as unknown as { createOffer: (options?: RTCOfferOptions) => Promise<RTCSessionDescriptionInit> };
    const createOffer = offers.createOffer.bind(pc);
    offers.createOffer = async (options) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return createOffer(options);
    };
    return pc;
  } as unknown as PeerConnectionConstructor;

/**
 * Two linked PeerLinks on wrtc (`a` polite, `b` not), signals crossing with random delays; `tracks` counts the
 * remote tracks each saw. The polite side's offers take `slowOfferMs` longer to make.
 */
function linkedPair(
  maxDelayMs: number,
  slowOfferMs = 0,
): { a: PeerLink; b: PeerLink; tracks: { a: number; b: number } } {
  const tracks = { a: 0, b: 0 };
  const toA = courier(maxDelayMs);
  const toB = courier(maxDelayMs);
  const links: { a?: PeerLink; b?: PeerLink } = {};
  const common = { configuration: {}, iceCandidateFilter: isLoopbackCandidate };
  const a = new PeerLink({
    ...common,
    RTCPeerConnection: slowOfferMs > 0 ? slowOffers(slowOfferMs) : Wrtc,
    remoteId: 'b',
    polite: true,
    sendSignal: (payload: SignalPayload) => toB(() => links.b?.handleSignal(payload)),
  });
  const b = new PeerLink({
    ...common,
    RTCPeerConnection: Wrtc,
    remoteId: 'a',
    polite: false,
    sendSignal: (payload: SignalPayload) => toA(() => links.a?.handleSignal(payload)),
  });
  links.a = a;
  links.b = b;
  a.on('track', () => tracks.a++);
  b.on('track', () => tracks.b++);
  return { a, b, tracks };
}

const tracksMade: MediaStreamTrack[] = [];
/** A wrtc video track (stopped after the test: a live one keeps the process running). */
const videoTrack = (): MediaStreamTrack => {
  const track = new wrtc.nonstandard.RTCVideoSource().createTrack();
  tracksMade.push(track);
  return track;
};
afterEach(() => {
  for (const track of tracksMade.splice(0)) track.stop();
});

describe('PeerLink negotiation', () => {
  it('both sides adding tracks at the same moment (glare) always ends connected, with every track on each side', async () => {
    for (let round = 0; round < 12; round++) {
      // Every other round, the polite side is still making its offer when the other side's offer arrives.
      const { a, b, tracks } = linkedPair(round % 3 === 0 ? 0 : 4, round % 2 === 0 ? 30 : 0);
      try {
        // The data channel's offer from `b` and both track offers cross on the wire.
        a.addTrack(videoTrack());
        b.addTrack(videoTrack());
        if (round % 2 === 1) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          a.addTrack(videoTrack());
          b.addTrack(videoTrack());
        }
        const expected = round % 2 === 1 ? 2 : 1;
        await waitUntil(
          () =>
            a.open &&
            b.open &&
            tracks.a === expected &&
            tracks.b === expected &&
            a.pc.signalingState === 'stable' &&
            b.pc.signalingState === 'stable',
          `round ${round}: both links open and stable with ${expected} remote track(s) each`,
          60_000,
        );
        assert.equal(a.state, 'connected');
        assert.equal(b.state, 'connected');
      } finally {
        a.close(true);
        b.close(true);
      }
    }
  });

  it('ICE restarts asked by both sides at once renegotiate and keep the link, its channel and its tracks', async () => {
    const { a, b, tracks } = linkedPair(3);
    try {
      a.addTrack(videoTrack());
      await waitUntil(() => a.open && b.open && tracks.b === 1, 'the first negotiation', 60_000);
      const ufrag = (sdp: string | undefined): string | undefined => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];
      const before = ufrag(a.pc.localDescription?.sdp);
      a.restartIce();
      b.restartIce();
      await waitUntil(
        () =>
          ufrag(a.pc.localDescription?.sdp) !== before &&
          a.pc.signalingState === 'stable' &&
          b.pc.signalingState === 'stable',
        'an ICE restart',
        60_000,
      );
      assert.notEqual(ufrag(a.pc.localDescription?.sdp), before, 'new ICE credentials');
      await waitUntil(() => a.state === 'connected' && b.state === 'connected', 'connected again', 60_000);
      assert.equal(tracks.b, 1, 'no track was added twice');
      assert.ok(a.open && b.open);
    } finally {
      a.close(true);
      b.close(true);
    }
  });
});

/** An RTCPeerConnection stand-in whose getStats() returns `entries`: enough for PeerLink's constructor and stats(). */
const statsOnly = (entries: Record<string, unknown>[]): PeerConnectionConstructor =>
  function StatsOnlyPeerConnection(): RTCPeerConnection {
    const report = new Map(entries.map((entry) => [String(entry['id']), entry]));
    return { getStats: () => Promise.resolve(report), close: () => undefined } as unknown as RTCPeerConnection;
  } as unknown as PeerConnectionConstructor;

describe('PeerLink stats', () => {
  const candidates = [
    { id: 'L-relay', type: 'local-candidate', candidateType: 'relay' },
    { id: 'L-host', type: 'local-candidate', candidateType: 'host' },
  ];
  const linkOn = (entries: Record<string, unknown>[]): PeerLink =>
    new PeerLink({
      RTCPeerConnection: statsOnly(entries),
      configuration: {},
      remoteId: 'x',
      polite: true,
      sendSignal: () => undefined,
    });

  it('reports the pair the transport has selected, even while its own checks are still in progress (after an ICE restart)', async () => {
    const link = linkOn([
      ...candidates,
      // The previous generation's pair, whose checks succeeded before the relay went away.
      { id: 'P-old', type: 'candidate-pair', state: 'succeeded', nominated: true, localCandidateId: 'L-host' },
      // The pair in use: nominated by the other side, this side's checks not answered yet.
      {
        id: 'P-new',
        type: 'candidate-pair',
        state: 'in-progress',
        nominated: true,
        localCandidateId: 'L-relay',
        currentRoundTripTime: 0.004,
      },
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P-new', bytesSent: 10, bytesReceived: 20 },
    ]);
    const stats = await link.stats();
    assert.deepEqual(
      [stats.localCandidateType, stats.rttMs, stats.bytesSent, stats.bytesReceived],
      ['relay', 4, 10, 20],
    );
    link.close(true);
  });

  it('without a transport entry, reports a nominated pair whose checks succeeded', async () => {
    const link = linkOn([
      ...candidates,
      { id: 'P-wait', type: 'candidate-pair', state: 'in-progress', nominated: true, localCandidateId: 'L-host' },
      { id: 'P-ok', type: 'candidate-pair', state: 'succeeded', nominated: true, localCandidateId: 'L-relay' },
    ]);
    assert.equal((await link.stats()).localCandidateType, 'relay');
    link.close(true);
  });
});
