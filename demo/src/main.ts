import { CameraSource, FramewireError, latencySinceCaptureMs, setAssetBaseUrl } from '@framewire/browser-sdk';
import { loadDemoConfig, type DemoConfig } from './demo-config.js';
import { watchHealth } from './health-badge.js';
import { startStabilizationDemo, stopStabilizationDemo, type StabilizationView } from './stabilization-demo.js';

function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page or is not a ${type.name}`);
  return element;
}

let camera: CameraSource | undefined;

async function fillDevicePicker(): Promise<void> {
  const select = $('camera-device', HTMLSelectElement);
  const devices = await CameraSource.list();
  select.replaceChildren(
    new Option('Default camera', ''),
    ...devices.map((d, i) => new Option(d.label || `Camera ${i + 1}`, d.deviceId)),
  );
}

async function startCamera(): Promise<void> {
  const error = $('camera-error', HTMLParagraphElement);
  error.hidden = true;
  const [width, height] = $('camera-size', HTMLSelectElement).value.split('x').map(Number);
  const deviceId = $('camera-device', HTMLSelectElement).value;
  try {
    camera = await CameraSource.open({ width, height, ...(deviceId ? { deviceId } : {}) });
  } catch (failure) {
    error.textContent = failure instanceof FramewireError ? `${failure.code}: ${failure.message}` : String(failure);
    error.hidden = false;
    return;
  }
  $('camera-start', HTMLButtonElement).disabled = true;
  $('camera-stop', HTMLButtonElement).disabled = false;
  await fillDevicePicker();
  const canvas = $('camera-view', HTMLCanvasElement);
  const context = canvas.getContext('2d');
  const stats = $('camera-stats', HTMLOutputElement);
  const source = camera;
  for await (const frame of source) {
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    context?.drawImage(frame, 0, 0);
    const latency = latencySinceCaptureMs(frame) ?? 0;
    const s = source.stats;
    stats.value = `${frame.displayWidth}×${frame.displayHeight} · ${s.fps.toFixed(1)} fps · ${s.framesDelivered} frames · ${s.framesDropped} dropped · ${latency.toFixed(0)} ms since capture`;
    stats.dataset['frames'] = String(s.framesDelivered);
    frame.close();
  }
}

async function stopCamera(): Promise<void> {
  await camera?.close();
  camera = undefined;
  $('camera-start', HTMLButtonElement).disabled = false;
  $('camera-stop', HTMLButtonElement).disabled = true;
}

function showBridge(config: DemoConfig): void {
  $('bridge-view', HTMLImageElement).src = new URL('/video', config.bridgeUrl).href;
}

function stabilizationView(): StabilizationView {
  return {
    before: $('stabilize-before', HTMLCanvasElement),
    after: $('stabilize-after', HTMLCanvasElement),
    stats: $('stabilize-stats', HTMLOutputElement),
    error: $('stabilize-error', HTMLParagraphElement),
    smoothingRadius: $('stabilize-radius', HTMLInputElement),
    lookaheadFrames: $('stabilize-lookahead', HTMLInputElement),
    borderType: $('stabilize-border', HTMLSelectElement),
    start: $('stabilize-start', HTMLButtonElement),
    stop: $('stabilize-stop', HTMLButtonElement),
  };
}

async function main(): Promise<void> {
  const config = await loadDemoConfig();
  setAssetBaseUrl(config.sdkAssetsUrl);
  watchHealth($('bridge-status', HTMLSpanElement), config.bridgeUrl);
  watchHealth($('signaling-status', HTMLSpanElement), config.signalingUrl);
  showBridge(config);
  $('camera-start', HTMLButtonElement).addEventListener('click', () => void startCamera());
  $('camera-stop', HTMLButtonElement).addEventListener('click', () => void stopCamera());
  const stabilization = stabilizationView();
  stabilization.start.addEventListener('click', () => startStabilizationDemo(stabilization));
  stabilization.stop.addEventListener('click', () => stopStabilizationDemo(stabilization));
  if (new URLSearchParams(location.search).has('stabilize')) startStabilizationDemo(stabilization);
  await fillDevicePicker();
  if (new URLSearchParams(location.search).has('autostart')) await startCamera();
}

void main();
