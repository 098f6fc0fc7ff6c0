/*
 * The stabilizer worker: frames arrive transferred, OpenCV.js (loaded here, lazily, from the URL the main thread
 * sends) measures the motion on a small gray copy, a 2D canvas warps the full frame, and the stabilized frame
 * goes back transferred. Messages are handled one at a time, in order.
 */
import { loadOpenCvFrom } from '../core/lazy-modules.js';
import { asMotionApi } from '../transforms/stabilizer/opencv-api.js';
import { StabilizerEngine } from '../transforms/stabilizer/stabilizer-engine.js';
import type {
  StabilizerRequest,
  StabilizerResponse,
  StabilizerWorkerErrorCode,
} from '../transforms/stabilizer/stabilizer-messages.js';

// The SDK compiles against the DOM library; these are the few worker-scope members this file uses.
interface StabilizerWorkerScope {
  postMessage(message: StabilizerResponse, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<StabilizerRequest>) => void) | null;
  close(): void;
}
const scope = self as unknown as StabilizerWorkerScope;

let engine: StabilizerEngine | undefined;
let failed = false;
let chain: Promise<void> = Promise.resolve();

function post(message: StabilizerResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function fail(code: StabilizerWorkerErrorCode, error: unknown): void {
  if (failed) return;
  failed = true;
  post({ type: 'error', code, message: error instanceof Error ? error.message : String(error) });
}

async function init(options: StabilizerRequest & { type: 'init' }): Promise<void> {
  let cv;
  try {
    cv = asMotionApi((await loadOpenCvFrom(options.openCvUrl)).cv);
  } catch (error) {
    fail('FW_ERR_LAZY_LOAD_FAILED', error);
    return;
  }
  engine = new StabilizerEngine(cv, options.options, ({ seq, frame, transform }) =>
    post({ type: 'frame', seq, frame, transform }, [frame]),
  );
  post({ type: 'ready' });
}

async function handle(message: StabilizerRequest): Promise<void> {
  switch (message.type) {
    case 'init':
      await init(message);
      break;
    case 'frame':
      if (!engine || failed) {
        message.frame.close();
        break;
      }
      await engine.push(message.frame, message.seq, message.captureTimeMs);
      break;
    case 'flush':
      await engine?.flush();
      post({ type: 'flushed', id: message.id });
      break;
    case 'close':
      await engine?.dispose();
      engine = undefined;
      scope.close();
      break;
  }
}

scope.onmessage = (event: MessageEvent<StabilizerRequest>) => {
  const message = event.data;
  chain = chain.then(
    () => handle(message),
    () => undefined,
  );
  chain = chain.catch((error: unknown) => {
    if (message.type === 'frame') message.frame.close();
    fail('FW_ERR_WORKER_FAILED', error);
  });
};
