import type { CvMat, CvMotionApi, CvValue } from './opencv-api.js';
import { fitSimilarityRobust } from './similarity-fit.js';
import type { PathPoint } from './trajectory-smoother.js';

/** Motion between consecutive frames, in input pixels about the frame centre. */
export interface FrameMotion extends PathPoint {
  /** Zoom between the frames (vidgear measures it and discards it; it is smoothed and corrected here). */
  scale: number;
  /** False when the motion could not be measured; the motion is then zero (identity). */
  found: boolean;
  /** True when the frame looks like another shot than the previous one (a scene cut): start a new path. */
  cut: boolean;
}

const NO_MOTION: FrameMotion = { x: 0, y: 0, angle: 0, scale: 1, found: false, cut: false };
const CUT: FrameMotion = { ...NO_MOTION, cut: true };
/** Luma histogram bins for cut detection. */
const HISTOGRAM_BINS = 32;
/**
 * Below this overlap of consecutive luma histograms (0–1) the frames are different shots: shake, blur and
 * rolling shutter move the picture but barely change its histogram. Only frames with trackable features count
 * (a black or flat frame is "no motion", not a cut).
 */
const CUT_OVERLAP = 0.5;
/** vidgear's feature settings (maxCorners 200, qualityLevel 0.05, blockSize 3), minDistance for the small copy. */
const MAX_CORNERS = 200;
const QUALITY_LEVEL = 0.05;
const MIN_DISTANCE_PX = 8;
const BLOCK_SIZE = 3;
/** Fewest tracked features for a fit; below that the frame counts as featureless. */
const MIN_TRACKED = 8;
/**
 * 8-bit formats whose first plane is the full-size luma (what a software decoder and most cameras give): the gray
 * copy is that plane, shrunk by OpenCV, with no colour conversion of the whole frame.
 */
const LUMA_FIRST_FORMATS: ReadonlySet<string> = new Set(['I420', 'I420A', 'I422', 'I444', 'NV12']);

/**
 * Measures the camera motion between consecutive frames: a grayscale copy at most `analysisWidth` wide,
 * Shi-Tomasi corners on the previous copy, pyramidal Lucas-Kanade into the current one, and a robust similarity
 * fit ({@link fitSimilarityRobust}). Owns its OpenCV matrices: call {@link MotionEstimator.dispose}.
 */
export class MotionEstimator {
  readonly #cv: CvMotionApi;
  readonly #analysisWidth: number;
  #canvas: OffscreenCanvas | undefined;
  #context: OffscreenCanvasRenderingContext2D | undefined;
  /** Size of the gray copy; a new size starts over (no previous frame). */
  #cols = 0;
  #rows = 0;
  /** The planes of a luma-first frame, and its full-size luma as a matrix (reused while the size stays). */
  #planes: Uint8Array | undefined;
  #luma: CvMat | undefined;
  #previous: CvMat | undefined;
  #current: CvMat | undefined;
  #corners: CvMat;
  #next: CvMat;
  #status: CvMat;
  #error: CvMat;
  #noMask: CvMat;
  #winSize: CvValue;
  #criteria: CvValue;
  #scale = 1;
  #hasPrevious = false;
  #histogram = new Float64Array(HISTOGRAM_BINS);
  #previousHistogram = new Float64Array(HISTOGRAM_BINS);

  /** @param analysisWidth width of the grayscale copy motion is measured on, pixels. */
  constructor(cv: CvMotionApi, analysisWidth: number) {
    this.#cv = cv;
    this.#analysisWidth = analysisWidth;
    this.#corners = new cv.Mat();
    this.#next = new cv.Mat();
    this.#status = new cv.Mat();
    this.#error = new cv.Mat();
    this.#noMask = new cv.Mat();
    this.#winSize = new cv.Size(15, 15);
    this.#criteria = new cv.TermCriteria(cv.TERM_CRITERIA_EPS | cv.TERM_CRITERIA_COUNT, 20, 0.03);
  }

  /** Forgets the previous frame: the next call to {@link measure} returns no motion. */
  reset(): void {
    this.#hasPrevious = false;
  }

  /** The motion from the previous frame to `frame` (no motion for the first frame after a reset). */
  async measure(frame: VideoFrame): Promise<FrameMotion> {
    const width = frame.displayWidth;
    const height = frame.displayHeight;
    const small = await this.#grayCopy(frame, width, height);
    const cv = this.#cv;
    let motion = NO_MOTION;
    const textured = this.#hasPrevious && this.#previous !== undefined && this.#corners.rows >= MIN_TRACKED;
    // Every frame's histogram is kept, for the next frame's comparison.
    const overlap = this.#histogramOverlap(small);
    if (textured && overlap < CUT_OVERLAP) {
      motion = CUT;
    } else if (textured && this.#previous) {
      cv.calcOpticalFlowPyrLK(
        this.#previous,
        small,
        this.#corners,
        this.#next,
        this.#status,
        this.#error,
        this.#winSize,
        3,
        this.#criteria,
      );
      motion = this.#fit(small.cols, small.rows);
    }
    // Features for the next step, found on this frame (vidgear re-detects every frame too).
    cv.goodFeaturesToTrack(small, this.#corners, MAX_CORNERS, QUALITY_LEVEL, MIN_DISTANCE_PX, this.#noMask, BLOCK_SIZE);
    this.#current = this.#previous;
    this.#previous = small;
    this.#hasPrevious = true;
    return motion;
  }

  /** Releases the OpenCV matrices. */
  dispose(): void {
    for (const mat of [
      this.#previous,
      this.#current,
      this.#luma,
      this.#corners,
      this.#next,
      this.#status,
      this.#error,
    ]) {
      mat?.delete();
    }
    this.#noMask.delete();
    this.#previous = undefined;
    this.#current = undefined;
    this.#luma = undefined;
  }

  #fit(cols: number, rows: number): FrameMotion {
    const from = this.#corners.data32F;
    const to = this.#next.data32F;
    const status = this.#status.data;
    const count = this.#corners.rows;
    const p = new Float64Array(count * 2);
    const q = new Float64Array(count * 2);
    let n = 0;
    const cx = cols / 2;
    const cy = rows / 2;
    for (let i = 0; i < count; i++) {
      if (!status[i]) continue;
      p[2 * n] = (from[2 * i] ?? 0) - cx;
      p[2 * n + 1] = (from[2 * i + 1] ?? 0) - cy;
      q[2 * n] = (to[2 * i] ?? 0) - cx;
      q[2 * n + 1] = (to[2 * i + 1] ?? 0) - cy;
      n++;
    }
    if (n < MIN_TRACKED) return NO_MOTION;
    const fit = fitSimilarityRobust(p.subarray(0, 2 * n), q.subarray(0, 2 * n), { thresholdPx: 1, minInliers: 6 });
    if (!fit) return NO_MOTION;
    const scale = Math.hypot(fit.a, fit.b);
    // A jump of a quarter frame or a zoom of 20 % between two frames is a cut or a bad fit, not camera shake.
    if (Math.abs(scale - 1) > 0.2 || Math.abs(fit.tx) > cols / 4 || Math.abs(fit.ty) > rows / 4) return NO_MOTION;
    return {
      x: fit.tx * this.#scale,
      y: fit.ty * this.#scale,
      angle: Math.atan2(fit.b, fit.a),
      scale,
      found: true,
      cut: false,
    };
  }

  /** The overlap (0–1) of `gray`'s luma histogram with the previous frame's; keeps `gray`'s for the next call. */
  #histogramOverlap(gray: CvMat): number {
    const [current, previous] = [this.#previousHistogram, this.#histogram];
    current.fill(0);
    const data = gray.data;
    // Every 4th pixel is plenty for a histogram.
    for (let i = 0; i < data.length; i += 4) {
      const bin = (data[i] ?? 0) >> 3;
      current[bin] = (current[bin] ?? 0) + 1;
    }
    let total = 0;
    let common = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      total += current[b] ?? 0;
      common += Math.min(current[b] ?? 0, previous[b] ?? 0);
    }
    this.#histogram = current;
    this.#previousHistogram = previous;
    return total > 0 ? common / total : 1;
  }

  /** An 8-bit gray matrix of `frame`, at most `analysisWidth` wide. */
  async #grayCopy(frame: VideoFrame, width: number, height: number): Promise<CvMat> {
    const small = Math.min(1, this.#analysisWidth / width);
    const cols = Math.max(16, Math.round(width * small));
    const rows = Math.max(16, Math.round(height * small));
    if (cols !== this.#cols || rows !== this.#rows) {
      this.#cols = cols;
      this.#rows = rows;
      this.#hasPrevious = false;
      this.#previous?.delete();
      this.#previous = undefined;
      this.#current?.delete();
      this.#current = undefined;
    }
    this.#scale = width / cols;
    // Reuse the matrix of the frame before last: same size, no allocation.
    const mat = this.#current ?? new this.#cv.Mat(rows, cols, this.#cv.CV_8UC1);
    this.#current = undefined;
    try {
      if (!(await this.#shrinkLuma(frame, width, height, mat))) this.#drawGray(frame, cols, rows, mat);
    } catch (error) {
      mat.delete();
      throw error;
    }
    return mat;
  }

  /**
   * Shrinks the luma plane of a luma-first frame into `mat` (area averaging); false for other frames (RGB, high
   * bit depth, or a visible area that is not the display size), which take the canvas path.
   */
  async #shrinkLuma(frame: VideoFrame, width: number, height: number, mat: CvMat): Promise<boolean> {
    const rect = frame.visibleRect;
    if (!frame.format || !LUMA_FIRST_FORMATS.has(frame.format) || rect?.width !== width || rect.height !== height) {
      return false;
    }
    const size = frame.allocationSize();
    if (this.#planes?.length !== size) this.#planes = new Uint8Array(size);
    // The visible area, tightly packed: the luma plane comes first, `width` bytes per row.
    await frame.copyTo(this.#planes);
    const cv = this.#cv;
    if (this.#luma?.cols !== width || this.#luma.rows !== height) {
      this.#luma?.delete();
      this.#luma = new cv.Mat(height, width, cv.CV_8UC1);
    }
    this.#luma.data.set(this.#planes.subarray(0, width * height));
    cv.resize(this.#luma, mat, new cv.Size(mat.cols, mat.rows), 0, 0, cv.INTER_AREA);
    return true;
  }

  /** Draws `frame` into a small canvas and converts it to BT.601 luma in `mat`. */
  #drawGray(frame: VideoFrame, cols: number, rows: number, mat: CvMat): void {
    if (!this.#canvas || this.#canvas.width !== cols || this.#canvas.height !== rows) {
      this.#canvas = new OffscreenCanvas(cols, rows);
      const context = this.#canvas.getContext('2d', { willReadFrequently: true });
      if (!context) throw new Error('no 2D context for motion analysis');
      this.#context = context;
    }
    const context = this.#context;
    if (!context) throw new Error('no 2D context for motion analysis');
    context.drawImage(frame, 0, 0, cols, rows);
    const rgba = context.getImageData(0, 0, cols, rows).data;
    const gray = mat.data;
    for (let i = 0, j = 0; j < gray.length; i += 4, j++) {
      // BT.601 luma in integer arithmetic.
      gray[j] = ((rgba[i] ?? 0) * 77 + (rgba[i + 1] ?? 0) * 150 + (rgba[i + 2] ?? 0) * 29) >> 8;
    }
  }
}
