/** The MQTT page's view: the bridge's test pattern published to a broker, received back through it. */
import { MqttSource, latencySinceCaptureMs } from '@framewire/browser-sdk';
import { describeError } from './dom.js';
import { showStats } from './stats-overlay.js';

/**
 * Subscribes to `streamId` on the broker behind `mqttUrl` (the bridge's `/mqtt` relay) and draws every frame on
 * `canvas`, with fps, dropped frames and glass-to-glass latency in `overlay`, until the source ends.
 */
export async function startMqttView(
  mqttUrl: string | undefined,
  streamId: string,
  canvas: HTMLCanvasElement,
  overlay: HTMLOutputElement,
): Promise<void> {
  if (!mqttUrl) {
    overlay.textContent = 'No MQTT broker configured: npm run demo starts mosquitto when it is installed.';
    overlay.dataset['state'] = 'unconfigured';
    return;
  }
  const context = canvas.getContext('2d');
  try {
    const source = await MqttSource.open({ url: mqttUrl, streamId });
    let frames = 0;
    for await (const frame of source) {
      if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
      if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
      context?.drawImage(frame, 0, 0);
      const latencyMs = latencySinceCaptureMs(frame);
      frame.close();
      canvas.dataset['frames'] = String(++frames);
      if (frames % 5 === 0)
        showStats(overlay, { fps: source.stats.fps, droppedFrames: source.stats.framesDropped, latencyMs });
    }
  } catch (failure) {
    overlay.textContent = `MQTT view unavailable: ${describeError(failure)}`;
    overlay.dataset['state'] = 'failed';
  }
}
