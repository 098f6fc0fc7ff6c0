/** The bridge page's WebSocket view: the bridge's H.264 over WebSocket, decoded by `BridgeSource`, with latency. */
import { BridgeSource } from '@framewire/browser-sdk';
import { describeError } from './dom.js';
import { showStats } from './stats-overlay.js';

/** Opens the bridge's WebSocket at `bridgeUrl` and draws every frame on `canvas` until the source ends. */
export async function startBridgeWsView(
  bridgeUrl: string,
  canvas: HTMLCanvasElement,
  overlay: HTMLOutputElement,
): Promise<void> {
  const context = canvas.getContext('2d');
  try {
    // BridgeSource reconnects by itself when the bridge restarts.
    const source = await BridgeSource.open({ url: bridgeUrl, reconnect: { maxRetries: Infinity } });
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
    overlay.textContent = `WebSocket view unavailable: ${describeError(failure)}`;
    overlay.dataset['state'] = 'failed';
  }
}
