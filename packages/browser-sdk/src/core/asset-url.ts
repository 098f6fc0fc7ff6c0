import { assertOption } from '@framewire/core';

/*
 * Workers and heavy optional libraries ship as separate files beside the SDK bundle (dist/workers/…,
 * dist/vendor/…). By default they are found relative to the SDK file itself; an app that serves them from
 * elsewhere (a CDN, a bundler's asset folder) sets the base once.
 */
let base: string | undefined;

/** Where the SDK loads its worker and vendor files from. Default: the folder of the SDK bundle itself. */
export function setAssetBaseUrl(url: string | URL): void {
  const text = String(url);
  assertOption(text.length > 0, 'url must be a non-empty URL');
  base = text.endsWith('/') ? text : `${text}/`;
}

/** The absolute URL of an SDK asset such as `workers/encoder.worker.js`. */
export function assetUrl(path: string): string {
  const root = base ?? new URL('./', import.meta.url).href;
  return new URL(path, new URL(root, location.href)).href;
}
