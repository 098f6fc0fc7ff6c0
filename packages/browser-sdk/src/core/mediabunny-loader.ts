import type * as MediabunnyNamespace from 'mediabunny';
import { lazyLoadError } from './lazy-modules.js';

// Apart from the other lazy loaders (lazy-modules.ts), so that Workers importing those never see mediabunny.

/** The mediabunny namespace, fully typed, for the SDK's own modules (not part of the public types). */
export type MediabunnyApi = typeof MediabunnyNamespace;
/**
 * The mediabunny namespace (loaded on demand by {@link loadMediabunny}); typed loosely on purpose, so that the
 * SDK's published types do not depend on mediabunny's. Cast to `typeof import('mediabunny')` for its API.
 */
export type Mediabunny = Record<string, unknown>;
let mediabunny: Promise<MediabunnyApi> | undefined;

/**
 * Loads mediabunny (container reading and writing: MP4, WebM, MKV, MPEG-TS, …) once, on first use; it is never part
 * of the main bundle. `FileSource` and `Recorder` call it. Rejects with `FW_ERR_LAZY_LOAD_FAILED`.
 */
export function loadMediabunny(): Promise<Mediabunny> {
  return mediabunnyApi();
}

/** {@link loadMediabunny}, fully typed, for the SDK's own modules. */
export function mediabunnyApi(): Promise<MediabunnyApi> {
  mediabunny ??= import('mediabunny').then(
    (m) => m,
    (error: unknown) => {
      mediabunny = undefined;
      throw lazyLoadError('mediabunny', error);
    },
  );
  return mediabunny;
}
