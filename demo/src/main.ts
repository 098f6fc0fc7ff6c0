import {
  CameraSource,
  FileSource,
  FramewireError,
  Recorder,
  ScreenSource,
  latencySinceCaptureMs,
  setAssetBaseUrl,
  type FrameSource,
  type RecorderContainer,
  type RecorderVideoCodec,
} from '@framewire/browser-sdk';
import { loadDemoConfig, type DemoConfig } from './demo-config.js';
import { watchHealth } from './health-badge.js';
import { startStabilizationDemo, stopStabilizationDemo, type StabilizationView } from './stabilization-demo.js';

function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page or is not a ${type.name}`);
  return element;
}

const describeError = (failure: unknown): string =>
  failure instanceof FramewireError ? `${failure.code}: ${failure.message}` : String(failure);

let source: FrameSource | undefined;
/** The recording in progress: frames drawn by the capture loop are also given to it until `untilUs`. */
let recording: { recorder: Recorder; untilUs: number | undefined; seconds: number } | undefined;

async function fillDevicePicker(): Promise<void> {
  const select = $('camera-device', HTMLSelectElement);
  const selected = select.value;
  const devices = await CameraSource.list();
  select.replaceChildren(
    new Option('Default camera', ''),
    ...devices.map((d, i) => new Option(d.label || `Camera ${i + 1}`, d.deviceId)),
  );
  select.value = devices.some((d) => d.deviceId === selected) ? selected : '';
}

async function openSelected(): Promise<FrameSource> {
  const kind = $('capture-kind', HTMLSelectElement).value;
  const [width, height] = $('camera-size', HTMLSelectElement).value.split('x').map(Number);
  if (kind === 'screen') return ScreenSource.open({ frameRate: 30 });
  if (kind === 'file') {
    const file = $('capture-file', HTMLInputElement).files?.[0];
    if (!file) throw new Error('Choose a media file first');
    return FileSource.open(file, { pace: 'realtime', loop: $('capture-loop', HTMLInputElement).checked });
  }
  const deviceId = $('camera-device', HTMLSelectElement).value;
  return CameraSource.open({ width, height, ...(deviceId ? { deviceId } : {}) });
}

async function startCapture(): Promise<void> {
  const error = $('camera-error', HTMLParagraphElement);
  error.hidden = true;
  try {
    source = await openSelected();
  } catch (failure) {
    error.textContent = describeError(failure);
    error.hidden = false;
    return;
  }
  $('camera-start', HTMLButtonElement).disabled = true;
  $('camera-stop', HTMLButtonElement).disabled = false;
  $('record-start', HTMLButtonElement).disabled = false;
  $('record-status', HTMLOutputElement).value = 'ready';
  await fillDevicePicker();
  const canvas = $('camera-view', HTMLCanvasElement);
  const context = canvas.getContext('2d');
  const stats = $('camera-stats', HTMLOutputElement);
  const current = source;
  current.on('error', ({ error: failure }) => {
    error.textContent = describeError(failure);
    error.hidden = false;
  });
  for await (const frame of current) {
    if (canvas.width !== frame.displayWidth) canvas.width = frame.displayWidth;
    if (canvas.height !== frame.displayHeight) canvas.height = frame.displayHeight;
    context?.drawImage(frame, 0, 0);
    const latency = latencySinceCaptureMs(frame) ?? 0;
    const s = current.stats;
    stats.value = `${frame.displayWidth}×${frame.displayHeight} · ${s.fps.toFixed(1)} fps · ${s.framesDelivered} frames · ${s.framesDropped} dropped · ${latency.toFixed(0)} ms since capture`;
    stats.dataset['frames'] = String(s.framesDelivered);
    await feedRecording(frame);
    frame.close();
  }
  await finishRecording();
  await stopCapture();
}

async function stopCapture(): Promise<void> {
  await source?.close();
  source = undefined;
  $('camera-start', HTMLButtonElement).disabled = false;
  $('camera-stop', HTMLButtonElement).disabled = true;
  $('record-start', HTMLButtonElement).disabled = true;
}

function startRecording(): void {
  const status = $('record-status', HTMLOutputElement);
  const container = $('record-container', HTMLSelectElement).value as RecorderContainer;
  const codec = $('record-codec', HTMLSelectElement).value as RecorderVideoCodec;
  const bitrateBps = Number($('record-bitrate', HTMLInputElement).value) * 1000;
  const seconds = Number($('record-seconds', HTMLInputElement).value);
  try {
    recording = { recorder: new Recorder({ container, codec, bitrateBps }), untilUs: undefined, seconds };
  } catch (failure) {
    status.value = describeError(failure);
    return;
  }
  $('record-start', HTMLButtonElement).disabled = true;
  $('record-download', HTMLAnchorElement).hidden = true;
  status.value = `recording ${seconds} s…`;
  status.dataset['state'] = 'recording';
}

/** Gives the recording a copy of `frame` (the capture loop keeps drawing the original). */
async function feedRecording(frame: VideoFrame): Promise<void> {
  if (!recording) return;
  recording.untilUs ??= frame.timestamp + recording.seconds * 1e6;
  if (frame.timestamp >= recording.untilUs) {
    await finishRecording();
    return;
  }
  try {
    await recording.recorder.write(frame.clone());
  } catch (failure) {
    $('record-status', HTMLOutputElement).value = describeError(failure);
  }
}

async function finishRecording(): Promise<void> {
  const current = recording;
  if (!current) return;
  recording = undefined;
  const status = $('record-status', HTMLOutputElement);
  try {
    const blob = (await current.recorder.finalize()) as Blob;
    const link = $('record-download', HTMLAnchorElement);
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = `framewire-recording.${current.recorder.container}`;
    link.hidden = false;
    status.value = `${current.recorder.codec ?? ''} in ${current.recorder.container}: ${current.recorder.stats.framesWritten} frames, ${(blob.size / 1024).toFixed(0)} KiB`;
    status.dataset['state'] = 'done';
    status.dataset['bytes'] = String(blob.size);
  } catch (failure) {
    status.value = describeError(failure);
    status.dataset['state'] = 'failed';
  }
  $('record-start', HTMLButtonElement).disabled = source === undefined;
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
  $('camera-start', HTMLButtonElement).addEventListener('click', () => void startCapture());
  $('camera-stop', HTMLButtonElement).addEventListener('click', () => void stopCapture());
  $('record-start', HTMLButtonElement).addEventListener('click', () => startRecording());
  CameraSource.onDevicesChange(() => void fillDevicePicker());
  const stabilization = stabilizationView();
  stabilization.start.addEventListener('click', () => startStabilizationDemo(stabilization));
  stabilization.stop.addEventListener('click', () => stopStabilizationDemo(stabilization));
  if (new URLSearchParams(location.search).has('stabilize')) startStabilizationDemo(stabilization);
  await fillDevicePicker();
  if (new URLSearchParams(location.search).has('autostart')) await startCapture();
}

void main();
