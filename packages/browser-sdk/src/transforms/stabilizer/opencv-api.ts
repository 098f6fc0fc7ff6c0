/*
 * The few OpenCV.js members the stabilizer uses, typed. `loadOpenCv()` returns the namespace typed loosely on
 * purpose (its full typings are large); this narrows it at one place.
 */

/** An OpenCV.js matrix (WASM memory: call `delete()`). */
export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
  readonly data32F: Float32Array;
  delete(): void;
}

/** An OpenCV.js `Size` or `TermCriteria` value object. */
export type CvValue = object;

/** The subset of the OpenCV.js namespace used for motion estimation. */
export interface CvMotionApi {
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  Size: new (width: number, height: number) => CvValue;
  TermCriteria: new (type: number, maxCount: number, epsilon: number) => CvValue;
  CV_8UC1: number;
  INTER_AREA: number;
  TERM_CRITERIA_EPS: number;
  TERM_CRITERIA_COUNT: number;
  goodFeaturesToTrack(
    image: CvMat,
    corners: CvMat,
    maxCorners: number,
    qualityLevel: number,
    minDistance: number,
    mask: CvMat,
    blockSize: number,
  ): void;
  resize(src: CvMat, dst: CvMat, size: CvValue, fx: number, fy: number, interpolation: number): void;
  calcOpticalFlowPyrLK(
    prev: CvMat,
    next: CvMat,
    prevPts: CvMat,
    nextPts: CvMat,
    status: CvMat,
    err: CvMat,
    winSize: CvValue,
    maxLevel: number,
    criteria: CvValue,
  ): void;
}

/** Narrows the loosely typed namespace after checking that the members used exist. */
export function asMotionApi(cv: Record<string, unknown>): CvMotionApi {
  for (const name of ['Mat', 'Size', 'TermCriteria', 'goodFeaturesToTrack', 'calcOpticalFlowPyrLK', 'resize']) {
    if (typeof cv[name] !== 'function') throw new Error(`OpenCV.js lacks ${name}`);
  }
  return cv as unknown as CvMotionApi;
}
