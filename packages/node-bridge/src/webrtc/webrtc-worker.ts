/*
 * The bridge's WebRTC worker: a child process that owns every @roamhq/wrtc peer connection, so that a crash of the
 * native library (it has known crashes on open and close) takes down this process only; the bridge restarts it.
 * It reads control messages and raw I420 frames from stdin and writes answers, session states and received
 * frames to stdout (see webrtc-ipc.ts). Logs go to stderr.
 */
import { createRequire } from 'node:module';
import { DataChannelFrameSender } from './data-channel-frame-sender.js';
import {
  IpcMessageReader,
  encodeIpcFrameHeader,
  encodeIpcJson,
  type IpcAccessUnit,
  type IpcDelivery,
  type IpcFrame,
  type IpcFromWorker,
  type IpcToWorker,
} from './webrtc-ipc.js';

interface I420 {
  width: number;
  height: number;
  data: Uint8Array;
}
interface Track {
  kind: string;
  stop(): void;
}
interface DataChannel {
  label: string;
  readyState: string;
  bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(): void;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
}
interface PeerConnection {
  connectionState: string;
  iceGatheringState: string;
  localDescription: { type: string; sdp: string } | null;
  setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  addIceCandidate(candidate: { candidate: string; sdpMid: string }): Promise<void>;
  addTrack(track: Track, stream: unknown): unknown;
  close(): void;
  onconnectionstatechange: (() => void) | null;
  onicegatheringstatechange: (() => void) | null;
  ondatachannel: ((event: { channel: DataChannel }) => void) | null;
  ontrack: ((event: { track: Track }) => void) | null;
}
interface Wrtc {
  RTCPeerConnection: new (config: { iceServers: unknown[] }) => PeerConnection;
  MediaStream: new (tracks: Track[]) => unknown;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): Track; onFrame(frame: I420): void };
    RTCVideoSink: new (track: Track) => { onframe: ((event: { frame: I420 }) => void) | null; stop(): void };
  };
}

interface SharedSource {
  video: InstanceType<Wrtc['nonstandard']['RTCVideoSource']>;
  track: Track;
  stream: unknown;
  viewers: number;
}

interface Session {
  id: string;
  sourceId: string;
  pc: PeerConnection;
  meta: DataChannel | undefined;
  /** The `fw.h264` channel's sender, for data-channel viewers. */
  h264: DataChannelFrameSender | undefined;
  delivery: IpcDelivery;
  sink: { stop(): void } | undefined;
  timer: NodeJS.Timeout | undefined;
  /** True once the session counts as a viewer of its source. */
  viewing: boolean;
  closed: boolean;
}

/** A session that has not connected within this long is given up, in ms. */
const CONNECT_TIMEOUT_MS = 30_000;
/** A session that stays `disconnected` this long is closed, in ms. */
const DISCONNECTED_TIMEOUT_MS = 4_000;
/** How long the answer waits for ICE gathering, in ms. */
const GATHER_TIMEOUT_MS = 5_000;

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
const sources = new Map<string, SharedSource>();
const sessions = new Map<string, Session>();

function log(text: string): void {
  process.stderr.write(`[webrtc-worker] ${text}\n`);
}

function send(message: IpcFromWorker): void {
  process.stdout.write(encodeIpcJson(message));
}

function sendFrame(frame: IpcFrame): void {
  // Live video: when the bridge is behind, skip the frame rather than queue it.
  if (process.stdout.writableNeedDrain) return;
  process.stdout.write(encodeIpcFrameHeader(frame));
  process.stdout.write(frame.data);
}

/** Keeps only `a=candidate` lines whose address is in `addresses` (all when empty). */
function filterCandidates(sdp: string, addresses: string[]): string {
  if (addresses.length === 0) return sdp;
  return sdp
    .split('\r\n')
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const address = line.split(/\s+/)[4];
      return address !== undefined && addresses.includes(address);
    })
    .join('\r\n');
}

function sourceFor(id: string): SharedSource {
  let source = sources.get(id);
  if (!source) {
    const video = new wrtc.nonstandard.RTCVideoSource();
    const track = video.createTrack();
    source = { video, track, stream: new wrtc.MediaStream([track]), viewers: 0 };
    sources.set(id, source);
  }
  return source;
}

function closeSession(session: Session, state: string): void {
  if (session.closed) return;
  session.closed = true;
  clearTimeout(session.timer);
  sessions.delete(session.id);
  session.sink?.stop();
  try {
    session.meta?.close();
    session.h264?.close();
    session.pc.close();
  } catch (error) {
    log(`closing ${session.id}: ${String(error)}`);
  }
  const source = sources.get(session.sourceId);
  if (source && session.viewing && --source.viewers <= 0) {
    // A live wrtc track keeps native threads busy: stop it when nobody watches.
    source.track.stop();
    sources.delete(session.sourceId);
  }
  send({ type: 'state', sessionId: session.id, state });
}

function waitForGathering(pc: PeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve();
    };
  });
}

async function offer(message: Extract<IpcToWorker, { type: 'offer' }>): Promise<void> {
  const pc = new wrtc.RTCPeerConnection({ iceServers: message.iceServers });
  const session: Session = {
    id: message.sessionId,
    sourceId: message.mode === 'view' ? message.sourceId : '',
    pc,
    meta: undefined,
    h264: undefined,
    delivery: message.delivery,
    sink: undefined,
    timer: undefined,
    viewing: false,
    closed: false,
  };
  sessions.set(session.id, session);
  session.timer = setTimeout(() => closeSession(session, 'failed'), CONNECT_TIMEOUT_MS);
  pc.onconnectionstatechange = () => {
    const state = pc.connectionState;
    if (session.closed) return;
    send({ type: 'state', sessionId: session.id, state });
    clearTimeout(session.timer);
    if (state === 'failed' || state === 'closed') closeSession(session, state);
    else if (state === 'disconnected')
      session.timer = setTimeout(() => closeSession(session, 'failed'), DISCONNECTED_TIMEOUT_MS);
  };
  pc.ondatachannel = ({ channel }) => {
    if (channel.label === 'fw.meta') session.meta = channel;
    else if (channel.label === 'fw.h264' && session.delivery === 'datachannel')
      session.h264 = new DataChannelFrameSender(channel);
  };
  // Remote tracks arrive during setRemoteDescription: listen first.
  if (message.mode === 'publish')
    pc.ontrack = ({ track }) => {
      if (track.kind !== 'video' || session.closed) return;
      session.sink?.stop();
      const sink = new wrtc.nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }) =>
        sendFrame({
          id: session.id,
          width: frame.width,
          height: frame.height,
          captureTimeMs: Date.now(),
          data: frame.data,
        });
      session.sink = sink;
    };
  try {
    const remote = filterCandidates(message.sdp, message.iceAddresses);
    await pc.setRemoteDescription({ type: 'offer', sdp: remote });
    if (message.mode === 'view' && message.delivery === 'track') {
      const source = sourceFor(message.sourceId);
      source.viewers++;
      session.viewing = true;
      pc.addTrack(source.track, source.stream);
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await waitForGathering(pc);
    const sdp = filterCandidates(pc.localDescription?.sdp ?? answer.sdp, message.iceAddresses);
    if (session.closed) throw new Error('the session closed while answering');
    send({ type: 'answer', requestId: message.requestId, sessionId: session.id, sdp });
  } catch (error) {
    closeSession(session, 'failed');
    send({ type: 'refused', requestId: message.requestId, message: (error as Error).message });
  }
}

function onFrame(frame: IpcFrame): void {
  const source = sources.get(frame.id);
  if (!source) return;
  // wrtc keeps a reference until it has copied the frame: hand it a buffer of its own.
  source.video.onFrame({ width: frame.width, height: frame.height, data: new Uint8Array(frame.data) });
  const meta = JSON.stringify({ c: frame.captureTimeMs, f: Date.now() });
  for (const session of sessions.values()) {
    const channel = session.meta;
    if (session.sourceId !== frame.id || channel?.readyState !== 'open' || channel.bufferedAmount >= 64 * 1024)
      continue;
    try {
      channel.send(meta);
    } catch {
      // The channel closed while sending (wrtc updates its state on its own thread): nothing to tell a leaving viewer.
    }
  }
}

/** Sends an access unit of the source's shared H.264 feed to its data-channel viewers (each skips as it must). */
function onAccessUnit(unit: IpcAccessUnit): void {
  for (const session of sessions.values())
    if (session.sourceId === unit.id && !session.closed) session.h264?.send(unit);
}

function onJson(value: unknown): void {
  const message = value as IpcToWorker;
  if (message.type === 'offer') void offer(message);
  else if (message.type === 'candidates') {
    const session = sessions.get(message.sessionId);
    if (!session || session.closed) return;
    for (const candidate of message.candidates)
      session.pc
        .addIceCandidate(candidate)
        .catch((error: unknown) => log(`candidate for ${session.id}: ${String(error)}`));
  } else {
    const session = sessions.get(message.sessionId);
    if (session) closeSession(session, 'closed');
  }
}

const reader = new IpcMessageReader(onJson, onFrame, onAccessUnit);
process.stdin.on('data', (chunk: Buffer) => {
  try {
    reader.push(chunk);
  } catch (error) {
    // The pipe is out of step: exit and let the bridge start a clean worker.
    log(`bad input: ${(error as Error).message}`);
    process.exit(2);
  }
});
process.stdin.on('end', () => shutdown());
process.on('SIGTERM', () => shutdown());
process.stdout.on('error', () => process.exit(0));

function shutdown(): void {
  for (const session of [...sessions.values()]) closeSession(session, 'closed');
  for (const source of sources.values()) source.track.stop();
  sources.clear();
  // Leave at once: wrtc's finalizers are what crash at exit, and there is nothing left to flush.
  setTimeout(() => process.exit(0), 50);
}

send({ type: 'ready' });
