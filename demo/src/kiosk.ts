/**
 * The kiosk page: one stream, full screen, no UI. It keeps the screen awake, reconnects by itself for as long as
 * it takes, and says what is wrong when it cannot show the stream.
 */
import {
  BridgeSource,
  FramewireError,
  ReconnectBackoff,
  StreamSource,
  WhepSource,
  type FrameSource,
  type ReconnectBackoffOptions,
  latencySinceCaptureMs,
  setAssetBaseUrl,
} from '@framewire/browser-sdk';
import { loadDemoConfig } from './demo-config.js';
import { $, describeError } from './dom.js';
import { loadKioskConfig, type KioskConfig } from './kiosk-config.js';
import { showStats } from './stats-overlay.js';
import { keepScreenAwake } from './wake-lock.js';

type KioskState = 'starting' | 'connecting' | 'playing' | 'reconnecting' | 'offline';

function setState(state: KioskState, message: string): void {
  document.body.dataset['state'] = state;
  $('kiosk-status', HTMLDivElement).textContent = message;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens the kiosk's stream: a bridge's WebRTC (`type: 'webrtc'`, lowest latency), a ws:// or wss:// URL as a
 * bridge's H.264 over WebSocket, anything else as a stream URL.
 */
function openStream(
  config: KioskConfig,
  retry: { reconnect: ReconnectBackoffOptions; stallTimeoutMs: number },
): Promise<FrameSource> {
  const options = { ...retry, openTimeoutMs: 10_000 };
  if (config.type === 'webrtc') return WhepSource.open({ url: config.src, ...options });
  if (/^wss?:/i.test(config.src)) return BridgeSource.open({ url: config.src, ...options });
  return StreamSource.open(config.src, { ...(config.type ? { type: config.type } : {}), ...options });
}

/**
 * Shows `config.src` until the page closes: open, draw every frame, and open again after any failure but
 * `FW_ERR_INSECURE_CONTEXT`, which no retry can fix.
 */
async function run(config: KioskConfig): Promise<void> {
  const canvas = $('kiosk-view', HTMLCanvasElement);
  const context = canvas.getContext('2d');
  const stats = $('kiosk-stats', HTMLOutputElement);
  stats.hidden = !config.stats;
  // Between attempts: 1 s, 2 s, 4 s … up to 10 s, forever.
  const backoff = new ReconnectBackoff({ initialDelayMs: 1000, maxDelayMs: 10_000, maxRetries: Infinity });
  let frames = 0;
  for (;;) {
    setState(frames === 0 ? 'connecting' : 'reconnecting', `Connecting to ${config.src}…`);
    let problem = 'the stream ended';
    try {
      // Short in-source retries; this loop takes over after them, without limit.
      const retry = { reconnect: { initialDelayMs: 500, maxDelayMs: 2000, maxRetries: 2 }, stallTimeoutMs: 4000 };
      const source = await openStream(config, retry);
      source.on('error', ({ error, fatal }) => {
        if (fatal) problem = describeError(error);
        else setState('reconnecting', `Reconnecting: ${describeError(error)}`);
      });
      try {
        for await (const frame of source) {
          if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
          if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
          context?.drawImage(frame, 0, 0);
          const latencyMs = latencySinceCaptureMs(frame);
          frame.close();
          canvas.dataset['frames'] = String(++frames);
          if (document.body.dataset['state'] !== 'playing') setState('playing', '');
          backoff.reset();
          if (config.stats) {
            const s = source.stats;
            showStats(stats, { fps: s.fps, droppedFrames: s.framesDropped, latencyMs });
          }
        }
      } finally {
        await source.close();
      }
    } catch (failure) {
      problem = describeError(failure);
      // Retrying cannot help a page the browser gives no WebCodecs: say so and stop.
      if (failure instanceof FramewireError && failure.code === 'FW_ERR_INSECURE_CONTEXT') {
        setState('offline', `Cannot show the stream: ${problem}`);
        return;
      }
    }
    const delayMs = backoff.nextDelayMs() ?? 10_000;
    setState('offline', `Cannot show the stream: ${problem}.\nTrying again in ${Math.round(delayMs / 1000)} s…`);
    await sleep(delayMs);
  }
}

async function main(): Promise<void> {
  setAssetBaseUrl((await loadDemoConfig()).sdkAssetsUrl);
  let config: KioskConfig;
  try {
    config = await loadKioskConfig();
  } catch (failure) {
    setState('offline', `No stream configured: ${describeError(failure)}`);
    return;
  }
  document.body.dataset['fit'] = config.fit ?? 'contain';
  document.body.dataset['wake'] = await keepScreenAwake();
  await run(config);
}

void main();
