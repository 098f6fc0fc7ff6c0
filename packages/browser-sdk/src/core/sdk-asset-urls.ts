import { assetBaseOverride } from './asset-url.js';

/*
 * The SDK's workers and OpenCV.js are separate files (dist/workers/…, dist/vendor/opencv.js). They are named with
 * the literal `new URL('./…', import.meta.url)` form, which Vite, webpack 5, Parcel and Rollup follow: an app that
 * bundles the SDK gets them emitted with no copying by hand. The paths are relative to the built entry
 * (dist/index.js, and dist/framewire.min.js for the `<script>` build), not to the source file. Only
 * `setAssetBaseUrl` replaces them.
 */

/** `path` under the base set by `setAssetBaseUrl`, or `undefined` while none is set. */
function overridden(path: string): string | undefined {
  const base = assetBaseOverride();
  return base === undefined ? undefined : new URL(path, new URL(base, location.href)).href;
}

/**
 * Starts the SDK worker `workers/<file>` as a module worker called `name`. Under a base set by `setAssetBaseUrl`
 * it is loaded from there; otherwise `bundled()` starts it, and `bundled` must be written at the call site as
 * `() => new Worker(new URL('./workers/<file>', import.meta.url), { type: 'module', name: '<name>' })` so that
 * bundlers see the worker. Throws what `new Worker` throws.
 */
export function startSdkWorker(file: string, name: string, bundled: () => Worker): Worker {
  const url = overridden(`workers/${file}`);
  return url === undefined ? bundled() : new Worker(url, { type: 'module', name });
}

/** The absolute URL of OpenCV.js (`vendor/opencv.js`): under the `setAssetBaseUrl` base, or as the SDK shipped it. */
export function openCvUrl(): string {
  return overridden('vendor/opencv.js') ?? new URL('./vendor/opencv.js', import.meta.url).href;
}
