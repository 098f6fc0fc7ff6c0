/*
 * The bridge's room peer worker: a child process that owns the bridge's peer in a framewire room and every
 * @roamhq/wrtc object it needs, so that a crash of the native library (it has known crashes on open and close)
 * takes down this process only; the bridge restarts it and it joins again. It reads a `join` message and the
 * I420 frames and PCM audio of the published sources from stdin, and writes its state, the remote peers' events and their
 * frames to stdout (see room-peer-ipc.ts and webrtc-ipc.ts). Logs go to stderr.
 */
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { FramewireError, createLogger, setLogLevel } from '@framewire/core';
import { NodePeer, type NodeVideoPublication, type WrtcModule } from './node-peer.js';
import { encodeRoomIpcJson, type RoomIpcFromWorker, type RoomIpcToWorker } from './room-peer-ipc.js';
import { IpcMessageReader, encodeIpcFrameHeader, type IpcFrame, type IpcPcm } from '../webrtc/webrtc-ipc.js';

/** How long leaving the room may take before the worker exits anyway, in ms. */
const LEAVE_TIMEOUT_MS = 1500;

const logger = createLogger('room-peer-worker');
const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WrtcModule;
const publications = new Map<string, NodeVideoPublication>();
const tokenRequests = new Map<number, { resolve: (token: string) => void; reject: (error: Error) => void }>();
let nextTokenRequest = 1;
let peer: NodePeer | undefined;
let joining = false;
let leaving = false;

function log(text: string): void {
  process.stderr.write(`[room-peer-worker] ${text}\n`);
}

function send(message: RoomIpcFromWorker): void {
  process.stdout.write(encodeRoomIpcJson(message));
}

/** Sends `message` and exits with `code` once it is written (the bridge restarts the worker). */
function sendAndExit(message: RoomIpcFromWorker, code: number): void {
  process.stdout.write(encodeRoomIpcJson(message), () => process.exit(code));
}

function sendFrame(frame: IpcFrame): void {
  // Live video: when the bridge is behind, skip the frame rather than queue it.
  if (process.stdout.writableNeedDrain) return;
  process.stdout.write(encodeIpcFrameHeader(frame));
  process.stdout.write(frame.data);
}

/** The address field of an ICE candidate line (`candidate:<foundation> <component> <transport> <priority> <address> …`). */
function candidateAddress(candidate: RTCIceCandidateInit): string | undefined {
  return (candidate.candidate ?? '').replace(/^a=/, '').split(/\s+/)[4];
}

/** Asks the bridge for a fresh signaling token (the bridge holds the token or the function that makes one). */
function requestToken(): Promise<string> {
  const requestId = nextTokenRequest++;
  return new Promise((resolve, reject) => {
    tokenRequests.set(requestId, { resolve, reject });
    send({ type: 'token-request', requestId });
  });
}

function onToken(message: Extract<RoomIpcToWorker, { type: 'token' }>): void {
  const request = tokenRequests.get(message.requestId);
  if (!request) return;
  tokenRequests.delete(message.requestId);
  if (message.token === undefined)
    request.reject(new FramewireError('FW_ERR_UNAUTHORIZED', message.error ?? 'no token'));
  else request.resolve(message.token);
}

function reportConnected(): void {
  if (peer) send({ type: 'peers', connected: peer.room.connectedPeers.length });
}

async function join(message: Extract<RoomIpcToWorker, { type: 'join' }>): Promise<void> {
  if (joining || peer) return;
  joining = true;
  // stdout is the pipe to the bridge: every log record goes to stderr, which the bridge passes on.
  setLogLevel(message.logLevel, ({ level, scope, message: text, details }) => {
    const extra = details === undefined ? '' : ` ${inspect(details, { breakLength: Infinity, depth: 4 })}`;
    process.stderr.write(`[framewire:${scope}] (room peer worker) ${level}: ${text}${extra}\n`);
  });
  const addresses = message.iceAddresses;
  try {
    peer = await NodePeer.open({
      url: message.url,
      room: message.room,
      token: requestToken,
      wrtc,
      meta: message.meta,
      ...(addresses.length > 0
        ? { iceCandidateFilter: (candidate) => addresses.includes(candidateAddress(candidate) ?? '') }
        : {}),
    });
  } catch (error) {
    const code = error instanceof FramewireError ? error.code : 'FW_ERR_SIGNALING_FAILED';
    sendAndExit({ type: 'join-failed', code, message: (error as Error).message }, 3);
    return;
  }
  const joined = peer;
  for (const id of message.publish) {
    publications.set(id, joined.publishVideo({ audio: message.publishAudio.includes(id) }));
  }
  joined.room.on('track', ({ peerId, track }) => {
    if (track?.kind !== 'video') return;
    const info = joined.room.peers.find((p) => p.peerId === peerId);
    send({ type: 'track', peerId, meta: info?.meta });
  });
  joined.on('frame', ({ peerId, frame, receivedAtMs }) =>
    sendFrame({
      id: peerId,
      width: frame.width,
      height: frame.height,
      captureTimeMs: receivedAtMs,
      data: frame.data instanceof Uint8Array ? frame.data : new Uint8Array(frame.data.buffer),
    }),
  );
  joined.room.on('peer-left', ({ peerId }) => {
    send({ type: 'peer-left', peerId });
    reportConnected();
  });
  joined.room.on('peer-state', ({ peerId, state }) => {
    logger.debug(`peer ${peerId}: ${state}`);
    reportConnected();
  });
  joined.room.on('peer-open', () => reportConnected());
  joined.room.on('error', ({ error, fatal }) => {
    if (leaving) return;
    const report: RoomIpcFromWorker = { type: 'error', code: error.code, message: error.message, fatal };
    // A room that cannot continue (signaling lost for good): exit, and the bridge starts a worker that joins again.
    if (fatal) sendAndExit(report, 4);
    else send(report);
  });
  send({ type: 'joined', peerId: joined.peerId });
}

function onFrame(frame: IpcFrame): void {
  // wrtc keeps a reference until it has copied the frame: hand it a buffer of its own.
  publications.get(frame.id)?.pushFrame({ width: frame.width, height: frame.height, data: new Uint8Array(frame.data) });
}

function onPcm(pcm: IpcPcm): void {
  const publication = publications.get(pcm.id);
  if (!publication) return;
  // wrtc takes whole 16-bit samples: copy them out of the pipe's buffer (which may be oddly aligned).
  const samples = new Int16Array(pcm.data.byteLength / 2);
  new Uint8Array(samples.buffer).set(pcm.data.subarray(0, samples.byteLength));
  try {
    publication.pushAudio({ samples });
  } catch (error) {
    logger.debug(`audio chunk of ${pcm.id} skipped: ${(error as Error).message}`);
  }
}

function onJson(value: unknown): void {
  const message = value as RoomIpcToWorker;
  if (message.type === 'join') void join(message);
  else if (message.type === 'token') onToken(message);
  else if (message.type === 'ping') send({ type: 'pong', id: message.id });
  else void leave();
}

async function leave(): Promise<void> {
  if (leaving) return;
  leaving = true;
  // Leave the room (the other peers see it at once), then exit at once: wrtc's finalizers are what crash at exit.
  const timer = setTimeout(() => process.exit(0), LEAVE_TIMEOUT_MS);
  await peer?.close().catch((error: unknown) => log(`leaving the room: ${String(error)}`));
  clearTimeout(timer);
  setTimeout(() => process.exit(0), 50);
}

const reader = new IpcMessageReader(onJson, onFrame, undefined, onPcm);
process.stdin.on('data', (chunk: Buffer) => {
  try {
    reader.push(chunk);
  } catch (error) {
    // The pipe is out of step: exit and let the bridge start a clean worker.
    log(`bad input: ${(error as Error).message}`);
    process.exit(2);
  }
});
process.stdin.on('end', () => void leave());
process.on('SIGTERM', () => void leave());
process.stdout.on('error', () => process.exit(0));

send({ type: 'ready' });
