import {
  CameraSource,
  FramewireError,
  Stabilizer,
  type StabilizerBorderType,
  type StabilizerSmoothing,
} from '@framewire/browser-sdk';
import { showStats } from './stats-overlay.js';

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 30;

/** The page elements of the before/after section. */
export interface StabilizationView {
  before: HTMLCanvasElement;
  after: HTMLCanvasElement;
  stats: HTMLOutputElement;
  /** The overlay on the output: fps and the time from a frame entering the stabilizer to its display. */
  overlay: HTMLOutputElement;
  error: HTMLParagraphElement;
  /** `generated` (a shaky clip made in the page) or `camera`. */
  input: HTMLSelectElement;
  smoothing: HTMLSelectElement;
  smoothingRadius: HTMLInputElement;
  lookaheadFrames: HTMLInputElement;
  borderType: HTMLSelectElement;
  start: HTMLButtonElement;
  stop: HTMLButtonElement;
}

/** A still, detailed scene the shaky "camera" looks at. */
function makeScene(): OffscreenCanvas {
  const scene = new OffscreenCanvas(WIDTH * 3, HEIGHT + 120);
  const context = scene.getContext('2d');
  if (!context) throw new Error('no 2D context');
  const sky = context.createLinearGradient(0, 0, 0, scene.height);
  sky.addColorStop(0, '#7ab');
  sky.addColorStop(1, '#234');
  context.fillStyle = sky;
  context.fillRect(0, 0, scene.width, scene.height);
  for (let i = 0; i < 400; i++) {
    // A deterministic city skyline: houses with windows.
    const x = (i * 137) % scene.width;
    const h = 60 + ((i * 53) % 220);
    context.fillStyle = `hsl(${(i * 47) % 360} 35% ${25 + ((i * 13) % 40)}%)`;
    context.fillRect(x, scene.height - h, 24 + ((i * 7) % 40), h);
    context.fillStyle = '#fd6';
    for (let y = scene.height - h + 8; y < scene.height - 12; y += 18) context.fillRect(x + 6, y, 6, 8);
  }
  return scene;
}

let running: { stop: () => void } | undefined;

/** Shows `failure` (a FramewireError's code and message) on the page. */
function showError(view: StabilizationView, failure: unknown): void {
  view.error.textContent = failure instanceof FramewireError ? `${failure.code}: ${failure.message}` : String(failure);
  view.error.hidden = false;
}

/** Writes a generated shaky clip (a still scene seen by a jittering camera that pans slowly) in real time. */
async function writeGeneratedClip(
  writer: WritableStreamDefaultWriter<VideoFrame>,
  before: CanvasRenderingContext2D | null,
  state: { stopped: boolean },
  entered: Map<number, number>,
): Promise<void> {
  const scene = makeScene();
  const shaky = new OffscreenCanvas(WIDTH, HEIGHT);
  const shakyContext = shaky.getContext('2d');
  const start = performance.now();
  for (let i = 0; !state.stopped; i++) {
    const x = WIDTH + ((i * 1.5) % WIDTH) + 14 * Math.sin(i * 2.7) * Math.cos(i * 1.3);
    const y = 60 + 12 * Math.sin(i * 1.9) * Math.cos(i * 0.7);
    const angle = 0.02 * Math.sin(i * 3.1);
    shakyContext?.setTransform(1, 0, 0, 1, 0, 0);
    shakyContext?.translate(WIDTH / 2, HEIGHT / 2);
    shakyContext?.rotate(angle);
    shakyContext?.drawImage(scene, -x - WIDTH / 2, -y - HEIGHT / 2);
    before?.drawImage(shaky, 0, 0, before.canvas.width, before.canvas.height);
    try {
      const timestamp = Math.round((i * 1e6) / FPS);
      entered.set(timestamp, performance.now());
      await writer.write(new VideoFrame(shaky, { timestamp }));
    } catch {
      break;
    }
    const wait = start + ((i + 1) * 1000) / FPS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Writes the camera's frames as they come (`CameraSource → Stabilizer → canvas`, the live pipeline). */
async function writeCamera(
  camera: CameraSource,
  writer: WritableStreamDefaultWriter<VideoFrame>,
  before: CanvasRenderingContext2D | null,
  state: { stopped: boolean },
  entered: Map<number, number>,
): Promise<void> {
  while (!state.stopped) {
    const frame = await camera.read();
    if (!frame) break;
    before?.drawImage(frame, 0, 0, before.canvas.width, before.canvas.height);
    try {
      entered.set(frame.timestamp, performance.now());
      await writer.write(frame);
    } catch {
      frame.close(); // the stabilizer was closed: the frame is still ours
      break;
    }
  }
}

/**
 * Plays a generated shaky clip, or the camera, on the left and the same frames through `Framewire.Stabilizer` on
 * the right, with the settings chosen on the page; shows the output's fps and delay and the newest correction.
 */
export async function startStabilizationDemo(view: StabilizationView): Promise<void> {
  running?.stop();
  view.error.hidden = true;
  view.stats.dataset['frames'] = '0';
  let stabilizer: Stabilizer;
  try {
    stabilizer = new Stabilizer({
      smoothingRadius: Number(view.smoothingRadius.value),
      lookaheadFrames: Number(view.lookaheadFrames.value),
      borderType: view.borderType.value as StabilizerBorderType,
      smoothing: view.smoothing.value as StabilizerSmoothing,
    });
  } catch (failure) {
    showError(view, failure);
    return;
  }
  let camera: CameraSource | undefined;
  if (view.input.value === 'camera') {
    try {
      camera = await CameraSource.open({ width: WIDTH, height: HEIGHT });
    } catch (failure) {
      stabilizer.close();
      showError(view, failure);
      return;
    }
  }
  const before = view.before.getContext('2d');
  const after = view.after.getContext('2d');
  const state = { stopped: false };
  let frames = 0;
  // When each input frame (by timestamp) entered the stabilizer, and when recent outputs were shown.
  const entered = new Map<number, number>();
  const shown: number[] = [];
  stabilizer.on('error', ({ error }) => {
    view.error.textContent = `${error.code}: ${error.message}`;
    view.error.hidden = false;
  });
  void (async () => {
    const reader = stabilizer.readable.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        after?.drawImage(r.value, 0, 0, view.after.width, view.after.height);
        const now = performance.now();
        const enteredAt = entered.get(r.value.timestamp);
        entered.delete(r.value.timestamp);
        shown.push(now);
        while ((shown[0] ?? now) < now - 1000) shown.shift();
        showStats(view.overlay, {
          fps: shown.length,
          latencyMs: enteredAt === undefined ? undefined : now - enteredAt,
        });
        const t = stabilizer.transformOf(r.value);
        r.value.close();
        frames++;
        view.stats.dataset['frames'] = String(frames);
        if (t) {
          view.stats.value = `${frames} frames · correction ${t.dx.toFixed(1)}, ${t.dy.toFixed(1)} px, ${((t.angle * 180) / Math.PI).toFixed(2)}° · zoom ${t.zoom.toFixed(3)}× · crop ${t.crop.width.toFixed(0)}×${t.crop.height.toFixed(0)} · delay ${t.delayFrames} frames${t.cut ? ' · cut' : ''}`;
        }
      }
    } catch {
      // Stopped: the stream errors with FW_ERR_CLOSED.
    }
  })();
  const writer = stabilizer.writable.getWriter();
  void (
    camera ? writeCamera(camera, writer, before, state, entered) : writeGeneratedClip(writer, before, state, entered)
  ).catch((failure: unknown) => showError(view, failure));
  running = {
    stop: () => {
      state.stopped = true;
      stabilizer.close();
      void camera?.close();
    },
  };
  view.start.disabled = true;
  view.stop.disabled = false;
}

/** Stops the before/after player. */
export function stopStabilizationDemo(view: StabilizationView): void {
  running?.stop();
  running = undefined;
  view.start.disabled = false;
  view.stop.disabled = true;
}
