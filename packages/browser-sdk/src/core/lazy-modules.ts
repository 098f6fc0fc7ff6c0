import { FramewireError } from '@framewire/core';
import { openCvUrl } from './sdk-asset-urls.js';
import type Hls from 'hls.js';
import type * as DashJsNamespace from 'dashjs';

/** The hls.js `Hls` class (loaded on demand by {@link loadHls}). */
export type HlsClass = typeof Hls;
/** The dash.js namespace (loaded on demand by {@link loadDash}). */
export type DashJs = typeof DashJsNamespace;
/** The OpenCV.js namespace (loaded on demand by {@link loadOpenCv}); typed loosely on purpose. */
export type OpenCv = Record<string, unknown>;
/**
 * What {@link loadOpenCv} resolves with. The namespace is wrapped because Emscripten modules can be "thenable",
 * and a thenable resolved from a promise would be awaited again, forever.
 */
export interface OpenCvModule {
  /** The ready OpenCV.js namespace (`cv.Mat`, `cv.goodFeaturesToTrack`, …). */
  cv: OpenCv;
}

/** A fatal `FW_ERR_LAZY_LOAD_FAILED` for the optional library `name`. */
export function lazyLoadError(name: string, cause: unknown): FramewireError {
  return new FramewireError('FW_ERR_LAZY_LOAD_FAILED', `Could not load ${name}`, { cause, fatal: true, stage: 'load' });
}

let hls: Promise<HlsClass> | undefined;
let dash: Promise<DashJs> | undefined;
let cv: Promise<OpenCvModule> | undefined;

/** Loads hls.js once, on first use; it is never part of the main bundle. Rejects with `FW_ERR_LAZY_LOAD_FAILED`. */
export function loadHls(): Promise<HlsClass> {
  hls ??= import('hls.js').then(
    (m) => m.default,
    (error: unknown) => {
      hls = undefined;
      throw lazyLoadError('hls.js', error);
    },
  );
  return hls;
}

/** Loads dash.js once, on first use; it is never part of the main bundle. Rejects with `FW_ERR_LAZY_LOAD_FAILED`. */
export function loadDash(): Promise<DashJs> {
  dash ??= import('dashjs').then(
    (m) => m,
    (error: unknown) => {
      dash = undefined;
      throw lazyLoadError('dash.js', error);
    },
  );
  return dash;
}

/**
 * Loads OpenCV.js (WASM, about 11 MB) once, on first use, from `vendor/opencv.js` (beside the SDK, where the
 * app's bundler emitted it, or under the `setAssetBaseUrl` base), and waits until its runtime is initialised.
 * Rejects with `FW_ERR_LAZY_LOAD_FAILED`.
 */
export function loadOpenCv(): Promise<OpenCvModule> {
  return loadOpenCvFrom(openCvUrl());
}

/**
 * Loads OpenCV.js once from `url` (an ES module whose default export is the OpenCV.js module); later calls get
 * the same promise until a load fails. For workers, which get the URL from the main thread.
 * @internal
 */
export function loadOpenCvFrom(url: string): Promise<OpenCvModule> {
  cv ??= (async () => {
    try {
      // A URL known only at run time: bundlers must leave this import alone.
      const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as { default: unknown };
      return await opencvReady(module.default);
    } catch (error) {
      cv = undefined;
      throw lazyLoadError('opencv.js', error);
    }
  })();
  return cv;
}

async function opencvReady(exported: unknown): Promise<OpenCvModule> {
  if (exported instanceof Promise) return { cv: (await exported) as OpenCv };
  const module = exported as OpenCv & { Mat?: unknown; onRuntimeInitialized?: () => void };
  if (!module.Mat) {
    await new Promise<void>((resolve) => {
      module.onRuntimeInitialized = resolve;
    });
  }
  return { cv: module };
}
