import { CameraSource, FramewireError, type FrameSource } from '@framewire/browser-sdk';
// The peer layer from its own entry: the demo loads it with this page only, not at first paint.
import { Room, type PeerStats, type Publication } from '@framewire/browser-sdk/network';
import type { DemoConfig } from './demo-config.js';
import { $, describeError } from './dom.js';
import { showStats } from './stats-overlay.js';

/** What the page holds while it is in a room. */
interface Joined {
  room: Room;
  camera: FrameSource | undefined;
  publication: Publication | undefined;
  tiles: Map<string, HTMLElement>;
  /** The newest transport stats of each peer (refreshed every second): bitrate and the track's latency. */
  peerStats: Map<string, PeerStats>;
  statsTimer: ReturnType<typeof setInterval>;
}

let joined: Joined | undefined;

/** The signaling server's WebSocket endpoint, from its base URL (`http://host:8443/` → `ws://host:8443/ws`). */
const wsUrl = (signalingUrl: string): string => {
  const url = new URL('/ws', signalingUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
};

/** Asks the demo server for a token (an application's own server does this after its login). */
async function fetchToken(room: string, role: 'publisher' | 'viewer'): Promise<string> {
  const response = await fetch('/room-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, role }),
  });
  const body = (await response.json()) as { token?: string; error?: { code: string; message: string } };
  if (!response.ok || !body.token) {
    throw new FramewireError(
      body.error?.code === 'FW_ERR_INVALID_OPTION' ? 'FW_ERR_INVALID_OPTION' : 'FW_ERR_UNAUTHORIZED',
      body.error?.message ?? `the demo server gave no token (HTTP ${String(response.status)})`,
    );
  }
  return body.token;
}

/** Loopback-only ICE, for the end-to-end test (`?loopback`): real rooms send every candidate. */
const loopbackOnly = (candidate: RTCIceCandidateInit): boolean =>
  / (127\.0\.0\.1|::1) /.test(candidate.candidate ?? '') || (candidate.candidate ?? '') === '';

function say(text: string, from: string): void {
  const log = $('room-chat-log', HTMLOListElement);
  const item = document.createElement('li');
  const who = document.createElement('strong');
  who.textContent = `${from}: `;
  item.append(who, text);
  log.append(item);
  log.dataset['messages'] = String(log.children.length);
  item.scrollIntoView({ block: 'nearest' });
}

function setStatus(text: string, state: string): void {
  const status = $('room-status', HTMLOutputElement);
  status.value = text;
  status.dataset['state'] = state;
}

/**
 * Shows one remote peer's video in its own tile, with fps, bitrate and latency: a media track carries no capture
 * time, so its latency is the transport's estimate (half the round trip plus the jitter buffer).
 */
async function showRemote(current: Joined, peerId: string, source: FrameSource): Promise<void> {
  const tiles = current.tiles;
  const tile = document.createElement('figure');
  tile.className = 'room-tile';
  tile.dataset['peer'] = peerId;
  const canvas = document.createElement('canvas');
  const overlay = document.createElement('output');
  overlay.className = 'stats-overlay';
  const caption = document.createElement('figcaption');
  caption.textContent = `peer ${peerId.slice(0, 8)}`;
  tile.append(canvas, overlay, caption);
  tiles.get(peerId)?.remove();
  tiles.set(peerId, tile);
  $('room-videos', HTMLDivElement).append(tile);
  const context = canvas.getContext('2d');
  let frames = 0;
  for await (const frame of source) {
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    context?.drawImage(frame, 0, 0);
    tile.dataset['frames'] = String(++frames);
    const transport = current.peerStats.get(peerId);
    showStats(overlay, {
      fps: source.stats.fps,
      droppedFrames: source.stats.framesDropped,
      ...(transport ? { bitrateBps: transport.inboundBitrateBps } : {}),
      latencyMs: transport?.trackLatencyEstimateMs,
    });
    frame.close();
  }
  tile.remove();
  if (tiles.get(peerId) === tile) tiles.delete(peerId);
}

async function join(config: DemoConfig): Promise<void> {
  const name = $('room-name', HTMLInputElement).value.trim();
  const nick = $('room-nick', HTMLInputElement).value.trim() || 'guest';
  const publish = $('room-publish', HTMLInputElement).checked;
  $('room-join', HTMLButtonElement).disabled = true;
  setStatus('joining…', 'joining');
  let room: Room | undefined;
  try {
    const role = publish ? 'publisher' : 'viewer';
    room = await Room.open({
      url: wsUrl(config.signalingUrl),
      room: name,
      // A fresh token on every reconnect.
      token: () => fetchToken(name, role),
      meta: { nick },
      ...(new URLSearchParams(location.search).has('loopback') ? { iceCandidateFilter: loopbackOnly } : {}),
    });
  } catch (failure) {
    setStatus(describeError(failure), 'failed');
    $('room-join', HTMLButtonElement).disabled = false;
    return;
  }
  const peerStats = new Map<string, PeerStats>();
  const statsTimer = setInterval(() => {
    void room.stats().then((all) => {
      for (const stats of all) peerStats.set(stats.peerId, stats);
    });
  }, 1000);
  const current: Joined = { room, camera: undefined, publication: undefined, tiles: new Map(), peerStats, statsTimer };
  joined = current;
  room.on('track', ({ peerId, source }) => {
    // A track can still arrive while the room closes: only the room the page is in shows videos.
    if (joined !== current) void source?.close();
    else if (source) void showRemote(current, peerId, source);
  });
  room.on('peer-left', ({ peerId }) => say('left the room', peerId.slice(0, 8)));
  room.on('peer-joined', ({ peer }) => {
    const nick = peer.meta?.['nick'];
    say('joined the room', typeof nick === 'string' ? nick.slice(0, 40) : peer.peerId.slice(0, 8));
  });
  room.on('message', ({ from, topic, data }) => {
    if (topic !== 'chat' || typeof data !== 'object' || data === null) return;
    const { nick: who, text } = data as { nick?: unknown; text?: unknown };
    if (typeof text === 'string') say(text.slice(0, 500), typeof who === 'string' ? who : from.slice(0, 8));
  });
  room.on('error', ({ error, fatal }) => {
    if (fatal) setStatus(describeError(error), 'failed');
  });
  if (publish) {
    try {
      current.camera = await CameraSource.open({ width: 640, height: 360 });
      current.publication = room.publish(current.camera);
    } catch (failure) {
      say(`camera: ${describeError(failure)}`, 'framewire');
    }
  }
  setStatus(`in room “${name}” as ${room.peerId.slice(0, 8)} (${room.role})`, 'joined');
  $('room-leave', HTMLButtonElement).disabled = false;
  $('room-send', HTMLButtonElement).disabled = false;
}

async function leave(): Promise<void> {
  const current = joined;
  joined = undefined;
  if (!current) return;
  clearInterval(current.statsTimer);
  for (const tile of current.tiles.values()) tile.remove();
  await current.publication?.close();
  await current.camera?.close();
  await current.room.close();
  for (const tile of current.tiles.values()) tile.remove();
  setStatus('not in a room', 'idle');
  $('room-join', HTMLButtonElement).disabled = false;
  $('room-leave', HTMLButtonElement).disabled = true;
  $('room-send', HTMLButtonElement).disabled = true;
}

async function sendChat(): Promise<void> {
  const input = $('room-message', HTMLInputElement);
  const text = input.value.trim();
  if (!joined || !text) return;
  const nick = $('room-nick', HTMLInputElement).value.trim() || 'guest';
  input.value = '';
  say(text, `${nick} (you)`);
  try {
    await joined.room.send('chat', { nick, text });
  } catch (failure) {
    say(`not sent: ${describeError(failure)}`, 'framewire');
  }
}

/** Wires the room page: join/leave, the camera, remote videos and the chat. */
export function initRoomPage(config: DemoConfig): void {
  $('room-join', HTMLButtonElement).addEventListener('click', () => void join(config));
  $('room-leave', HTMLButtonElement).addEventListener('click', () => void leave());
  $('room-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    void sendChat();
  });
  addEventListener('pagehide', () => void leave());
}
