import { assertOption } from '@framewire/core';

/*
 * Workers and heavy optional libraries ship as separate files beside the SDK bundle (dist/workers/…,
 * dist/vendor/…). By default the SDK names them with `new URL('./workers/…', import.meta.url)`, which bundlers
 * follow and emit (sdk-asset-urls.ts); an app that serves them from elsewhere (a CDN) sets the base once.
 */
let base: string | undefined;

/**
 * Where the SDK loads its worker and vendor files from (`workers/…`, `vendor/…` under `url`), overriding the
 * default for the rest of the page's life. Default: unset, and each file is found beside the SDK bundle (the
 * `<script>` build) or wherever the app's bundler (Vite, webpack 5) emitted it. Workers must be
 * same-origin with the page.
 */
export function setAssetBaseUrl(url: string | URL): void {
  const text = String(url);
  assertOption(text.length > 0, 'url must be a non-empty URL');
  base = text.endsWith('/') ? text : `${text}/`;
}

/**
 * The base set by {@link setAssetBaseUrl}, or `undefined` while none is set.
 * @internal
 */
export function assetBaseOverride(): string | undefined {
  return base;
}

/**
 * The absolute URL of an SDK asset such as `workers/encoder.worker.js`: under the base set by
 * {@link setAssetBaseUrl}, else beside the SDK module (in an app bundle, that is where the bundler put the SDK's
 * code, not necessarily where it emitted the asset).
 */
export function assetUrl(path: string): string {
  // The SDK module's folder, spelled without `new URL('./', import.meta.url)`: bundlers would take that for an
  // asset to emit.
  const root = base ?? import.meta.url.replace(/[?#].*$/, '').replace(/[^/]*$/, '');
  return new URL(path, new URL(root, location.href)).href;
}
