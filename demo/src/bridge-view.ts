/** The bridge page's decoded views: H.264 over WebSocket (`BridgeSource`) and WebRTC (`WhepSource`), with latency. */
import { BridgeSource, WhepSource, type FrameSource, type FrameSourceStats } from '@framewire/browser-sdk';
import { describeError } from './dom.js';
import { showStats } from './stats-overlay.js';

/** A source whose stats carry glass-to-glass latency percentiles (both bridge transports do). */
type TimedSource = FrameSource & {
  readonly stats: FrameSourceStats & { latencyP50Ms: number | undefined; latencyP95Ms: number | undefined };
};

/** The transports the bridge page shows, and how each is opened (both reconnect by themselves). */
const OPENERS: Record<'ws' | 'webrtc', (bridgeUrl: string) => Promise<TimedSource>> = {
  ws: (url) => BridgeSource.open({ url, reconnect: { maxRetries: Infinity } }),
  webrtc: (url) => WhepSource.open({ url, reconnect: { maxRetries: Infinity } }),
};

/** Opens the bridge at `bridgeUrl` over `transport` and draws every frame on `canvas` until the source ends. */
export async function startBridgeView(
  transport: 'ws' | 'webrtc',
  bridgeUrl: string,
  canvas: HTMLCanvasElement,
  overlay: HTMLOutputElement,
): Promise<void> {
  const context = canvas.getContext('2d');
  try {
    const source = await OPENERS[transport](bridgeUrl);
    let frames = 0;
    for await (const frame of source) {
      if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
      if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
      context?.drawImage(frame, 0, 0);
      frame.close();
      canvas.dataset['frames'] = String(++frames);
      if (frames % 5 === 0) {
        const stats = source.stats;
        showStats(overlay, { fps: stats.fps, droppedFrames: stats.framesDropped, latencyMs: stats.latencyP50Ms });
        if (stats.latencyP95Ms !== undefined) {
          overlay.textContent += ` (p50), ${stats.latencyP95Ms.toFixed(0)} ms p95`;
          overlay.dataset['latencyP95Ms'] = String(stats.latencyP95Ms);
        }
      }
    }
  } catch (failure) {
    overlay.textContent = `${transport === 'ws' ? 'WebSocket' : 'WebRTC'} view unavailable: ${describeError(failure)}`;
    overlay.dataset['state'] = 'failed';
  }
}
