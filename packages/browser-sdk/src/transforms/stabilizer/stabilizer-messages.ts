import type { ResolvedStabilizerOptions } from './stabilizer-options.js';
import type { StabilizerTransform } from './stabilizer-transform.js';

/** Messages from the main thread to the stabilizer worker, keyed on `type`. */
export type StabilizerRequest =
  /**
   * First message: the absolute URL of OpenCV.js (the worker has no other way to know: in an app bundle it is
   * wherever the bundler emitted the file) and the options.
   */
  | { type: 'init'; openCvUrl: string; options: ResolvedStabilizerOptions }
  | { type: 'frame'; seq: number; frame: VideoFrame; captureTimeMs: number | undefined }
  | { type: 'flush'; id: number }
  | { type: 'close' };

/** Error codes the stabilizer worker reports. */
export type StabilizerWorkerErrorCode = 'FW_ERR_LAZY_LOAD_FAILED' | 'FW_ERR_WORKER_FAILED';

/** Messages from the stabilizer worker to the main thread, keyed on `type`. */
export type StabilizerResponse =
  | { type: 'ready' }
  /** A stabilized frame (transferred), in input order. */
  | { type: 'frame'; seq: number; frame: VideoFrame; transform: StabilizerTransform }
  | { type: 'flushed'; id: number }
  | { type: 'error'; code: StabilizerWorkerErrorCode; message: string };
