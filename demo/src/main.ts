import {
  CameraSource,
  FileSource,
  Recorder,
  ScreenSource,
  latencySinceCaptureMs,
  setAssetBaseUrl,
  type FrameSource,
  type RecorderContainer,
  type RecorderVideoCodec,
} from '@framewire/browser-sdk';
import { startBridgeView } from './bridge-view.js';
import { startMotionView } from './motion-view.js';
import { loadDemoConfig, type DemoConfig } from './demo-config.js';
import { $, describeError } from './dom.js';
import { watchHealth } from './health-badge.js';
import { registerServiceWorker } from './pwa.js';
import { startRouter } from './router.js';
import { startStabilizationDemo, stopStabilizationDemo, type StabilizationView } from './stabilization-demo.js';
import { showStats } from './stats-overlay.js';

let source: FrameSource | undefined;
/** The recording in progress: frames drawn by the capture loop are also given to it until `untilUs`. */
let recording: { recorder: Recorder; untilUs: number | undefined; seconds: number; framesGiven: number } | undefined;

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
  const overlay = $('camera-overlay', HTMLOutputElement);
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
    showStats(overlay, {
      fps: s.fps,
      droppedFrames: s.framesDropped,
      latencyMs: latencySinceCaptureMs(frame),
      ...(recording ? { bitrateBps: recordingBitrateBps(recording.recorder) } : {}),
    });
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
    // The capture loop must not stall while the encoder starts or catches up: the recorder holds copies and,
    // if the codec cannot keep up at all, drops (and says so) rather than holding the camera back.
    const recorder = new Recorder({ container, codec, bitrateBps, whenBehind: 'drop' });
    recorder.on('behind', ({ codec: behindCodec }) => {
      status.value = `recording ${seconds} s… ${behindCodec ?? codec} cannot keep up here: frames are dropped`;
    });
    recording = { recorder, untilUs: undefined, seconds, framesGiven: 0 };
  } catch (failure) {
    status.value = describeError(failure);
    return;
  }
  $('record-start', HTMLButtonElement).disabled = true;
  $('record-cancel', HTMLButtonElement).disabled = false;
  $('record-download', HTMLAnchorElement).hidden = true;
  status.value = `recording ${seconds} s…`;
  status.dataset['state'] = 'recording';
}

/** Average encoded bitrate of a recording so far. */
function recordingBitrateBps(recorder: Recorder): number {
  const { encodedBytes, durationUs } = recorder.stats;
  return durationUs > 0 ? (encodedBytes * 8 * 1e6) / durationUs : 0;
}

/** Gives the recording a copy of `frame` (the capture loop keeps drawing the original). */
async function feedRecording(frame: VideoFrame): Promise<void> {
  if (!recording) return;
  recording.untilUs ??= frame.timestamp + recording.seconds * 1e6;
  const startUs = recording.untilUs - recording.seconds * 1e6;
  $('record-progress', HTMLProgressElement).value = ((frame.timestamp - startUs) / (recording.seconds * 1e4)) | 0;
  if (frame.timestamp >= recording.untilUs) {
    await finishRecording();
    return;
  }
  try {
    recording.framesGiven++;
    await recording.recorder.write(frame.clone());
  } catch (failure) {
    $('record-status', HTMLOutputElement).value = describeError(failure);
  }
}

/** Discards the recording in progress (nothing is downloaded). */
async function cancelRecording(): Promise<void> {
  const current = recording;
  if (!current) return;
  recording = undefined;
  await current.recorder.cancel();
  const status = $('record-status', HTMLOutputElement);
  status.value = 'recording cancelled';
  status.dataset['state'] = 'cancelled';
  $('record-progress', HTMLProgressElement).value = 0;
  $('record-cancel', HTMLButtonElement).disabled = true;
  $('record-start', HTMLButtonElement).disabled = source === undefined;
}

async function finishRecording(): Promise<void> {
  const current = recording;
  if (!current) return;
  recording = undefined;
  $('record-cancel', HTMLButtonElement).disabled = true;
  const status = $('record-status', HTMLOutputElement);
  try {
    const blob = (await current.recorder.finalize()) as Blob;
    const link = $('record-download', HTMLAnchorElement);
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = `framewire-recording.${current.recorder.container}`;
    link.hidden = false;
    const { framesWritten, framesDropped } = current.recorder.stats;
    const dropped = framesDropped > 0 ? ` (${framesDropped} dropped: this codec cannot keep up here)` : '';
    status.value = `${current.recorder.codec ?? ''} in ${current.recorder.container}: ${framesWritten} frames${dropped}, ${(blob.size / 1024).toFixed(0)} KiB`;
    status.dataset['state'] = 'done';
    status.dataset['framesGiven'] = String(current.framesGiven);
    status.dataset['framesWritten'] = String(framesWritten);
    status.dataset['framesDropped'] = String(framesDropped);
    $('record-progress', HTMLProgressElement).value = 100;
    status.dataset['bytes'] = String(blob.size);
  } catch (failure) {
    status.value = describeError(failure);
    status.dataset['state'] = 'failed';
  }
  $('record-start', HTMLButtonElement).disabled = source === undefined;
}

/** Shows the bridge's MJPEG stream; a stream that fails (the bridge not started yet, or restarting) is asked again. */
function showBridge(config: DemoConfig): void {
  const view = $('bridge-view', HTMLImageElement);
  const url = new URL('/video', config.bridgeUrl);
  let attempt = 0;
  view.onerror = () => {
    url.searchParams.set('attempt', String(++attempt));
    setTimeout(() => (view.src = url.href), 1000);
  };
  view.src = url.href;
}

function stabilizationView(): StabilizationView {
  return {
    before: $('stabilize-before', HTMLCanvasElement),
    after: $('stabilize-after', HTMLCanvasElement),
    stats: $('stabilize-stats', HTMLOutputElement),
    overlay: $('stabilize-overlay', HTMLOutputElement),
    error: $('stabilize-error', HTMLParagraphElement),
    input: $('stabilize-input', HTMLSelectElement),
    smoothing: $('stabilize-smoothing', HTMLSelectElement),
    smoothingRadius: $('stabilize-radius', HTMLInputElement),
    lookaheadFrames: $('stabilize-lookahead', HTMLInputElement),
    borderType: $('stabilize-border', HTMLSelectElement),
    start: $('stabilize-start', HTMLButtonElement),
    stop: $('stabilize-stop', HTMLButtonElement),
  };
}

let packagePageLoaded = false;
let roomPageLoaded = false;
let mqttViewStarted = false;
let bridgeWsStarted = false;
let demoConfig: DemoConfig | undefined;
/** Loads a page's code the first time it is shown. */
function onRouteShown(route: string): void {
  if (route === 'bridge' && !bridgeWsStarted && demoConfig) {
    bridgeWsStarted = true;
    const { bridgeUrl } = demoConfig;
    void startBridgeView(
      'ws',
      bridgeUrl,
      $('bridge-ws-view', HTMLCanvasElement),
      $('bridge-ws-stats', HTMLOutputElement),
    );
    void startBridgeView(
      'webrtc',
      bridgeUrl,
      $('bridge-webrtc-view', HTMLCanvasElement),
      $('bridge-webrtc-stats', HTMLOutputElement),
    );
    void startMotionView(bridgeUrl, $('bridge-motion', HTMLElement), $('bridge-motion-events', HTMLOListElement));
  }
  if (route === 'mqtt' && !mqttViewStarted && demoConfig) {
    mqttViewStarted = true;
    const { mqttUrl } = demoConfig;
    void import('./mqtt-view.js').then(({ startMqttView }) =>
      startMqttView(mqttUrl, 'testpattern', $('mqtt-view', HTMLCanvasElement), $('mqtt-stats', HTMLOutputElement)),
    );
  }
  if (route === 'recordings' && demoConfig) {
    const { bridgeUrl } = demoConfig;
    void import('./recordings-page.js').then(({ showRecordings }) => showRecordings(bridgeUrl));
  }
  if (route === 'room' && !roomPageLoaded && demoConfig) {
    roomPageLoaded = true;
    const config = demoConfig;
    void import('./room-page.js').then(({ initRoomPage }) => initRoomPage(config));
  }
  if (route !== 'package' || packagePageLoaded) return;
  packagePageLoaded = true;
  void import('./package-page.js').then(({ initPackagePage }) => initPackagePage());
}

/**
 * Says plainly, above every page, that an http:// page opened by a LAN name cannot capture, decode or record (the
 * browser hides WebCodecs and getUserMedia there), and what to do; each feature also fails with
 * FW_ERR_INSECURE_CONTEXT when tried.
 */
function warnInsecureContext(): void {
  if (window.isSecureContext) return;
  const banner = $('insecure-context', HTMLParagraphElement);
  banner.textContent =
    `FW_ERR_INSECURE_CONTEXT: this page is not a secure context (${location.origin}), so the browser hides ` +
    'WebCodecs, the camera and offline storage from it. Open it over https (framewire-bridge tls makes a ' +
    'certificate for the LAN: docs/guides/node-bridge.md) or from localhost.';
  banner.hidden = false;
}

async function main(): Promise<void> {
  warnInsecureContext();
  void registerServiceWorker({ precacheOpenCv: true });
  const config = await loadDemoConfig();
  demoConfig = config;
  setAssetBaseUrl(config.sdkAssetsUrl);
  watchHealth($('bridge-status', HTMLSpanElement), config.bridgeUrl);
  watchHealth($('signaling-status', HTMLSpanElement), config.signalingUrl);
  showBridge(config);
  $('bridge-kiosk-link', HTMLAnchorElement).href =
    `kiosk.html?src=${encodeURIComponent(new URL('/video', config.bridgeUrl).href)}`;
  $('camera-start', HTMLButtonElement).addEventListener('click', () => void startCapture());
  $('camera-stop', HTMLButtonElement).addEventListener('click', () => void stopCapture());
  $('record-start', HTMLButtonElement).addEventListener('click', () => startRecording());
  $('record-cancel', HTMLButtonElement).addEventListener('click', () => void cancelRecording());
  CameraSource.onDevicesChange(() => void fillDevicePicker());
  const stabilization = stabilizationView();
  stabilization.start.addEventListener('click', () => void startStabilizationDemo(stabilization));
  stabilization.stop.addEventListener('click', () => stopStabilizationDemo(stabilization));
  if (new URLSearchParams(location.search).has('stabilize')) void startStabilizationDemo(stabilization);
  $('recordings-refresh', HTMLButtonElement).addEventListener('click', () => onRouteShown('recordings'));
  startRouter('capture', onRouteShown);
  await fillDevicePicker();
  if (new URLSearchParams(location.search).has('autostart')) await startCapture();
}

void main();
