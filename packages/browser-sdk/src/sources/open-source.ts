import { assertOption } from '@framewire/core';
import { CameraSource, type CameraSourceOptions } from './camera-source.js';
import { ScreenSource, type ScreenSourceOptions } from './screen-source.js';
import { FileSource, type FileInput, type FileSourceOptions } from './file-source.js';
import { StreamSource, type StreamSourceOptions } from './stream-source.js';
import { ElementSource, type ElementSourceOptions, type FrameElement } from './element-source.js';
import type { FrameSource } from './frame-source.js';
import { stabilize, type StabilizedSourceOptions } from '../transforms/stabilized-source.js';

/** Stabilizer settings accepted by {@link openSource}: vidgear's `stabilize=True`, or the Stabilizer's options. */
export type StabilizeOption = boolean | StabilizedSourceOptions;

/**
 * What {@link openSource} opens: exactly one of `camera`, `screen`, `file`, `url` or `element`, with that
 * source's options, plus the options every source shares.
 */
export type SourceSpec = (
  | { camera: CameraSourceOptions | true }
  | { screen: ScreenSourceOptions | true }
  | { file: FileInput; options?: FileSourceOptions }
  | { url: string | URL; options?: StreamSourceOptions }
  | { element: FrameElement; options?: ElementSourceOptions }
) & {
  /** Stabilizes the frames (vidgear's `VideoGear(stabilize=True)`). Default: `false`. */
  stabilize?: StabilizeOption;
};

const KINDS = ['camera', 'screen', 'file', 'url', 'element'] as const;

/**
 * Opens any source with one call — vidgear's `VideoGear`: `{ camera: {...} }` opens a {@link CameraSource},
 * `{ screen: {...} }` a {@link ScreenSource}, `{ file }` a {@link FileSource}, `{ url }` a {@link StreamSource},
 * `{ element }` an {@link ElementSource}. With `stabilize`, the frames go through a Stabilizer (see `stabilize()`);
 * closing the returned source closes the opened one. Rejects with `FW_ERR_INVALID_OPTION` unless exactly one kind
 * is given (or when the stabilizer options are invalid; the opened source is closed again), and with the chosen
 * source's own errors otherwise.
 *
 * @example
 * ```ts
 * const source = await Framewire.openSource({ camera: { width: 1280, height: 720 } });
 * const file = await Framewire.openSource({ file: input.files[0], options: { loop: true } });
 * const steady = await Framewire.openSource({ camera: {}, stabilize: { smoothingRadius: 25 } });
 * ```
 */
export async function openSource(spec: SourceSpec): Promise<FrameSource> {
  assertOption(typeof spec === 'object', 'spec must be an object such as { camera: {} }');
  const given = KINDS.filter((kind) => kind in spec);
  assertOption(
    given.length === 1,
    `spec must have exactly one of ${KINDS.join(', ')}; got ${given.join(', ') || 'none'}`,
  );
  const source = await openKind(spec);
  if (spec.stabilize === undefined || spec.stabilize === false) return source;
  try {
    return stabilize(source, spec.stabilize === true ? {} : spec.stabilize);
  } catch (error) {
    await source.close();
    throw error;
  }
}

function openKind(spec: SourceSpec): Promise<FrameSource> | FrameSource {
  if ('camera' in spec) return CameraSource.open(spec.camera === true ? {} : spec.camera);
  if ('screen' in spec) return ScreenSource.open(spec.screen === true ? {} : spec.screen);
  if ('file' in spec) return FileSource.open(spec.file, spec.options);
  if ('url' in spec) return StreamSource.open(spec.url, spec.options);
  return new ElementSource(spec.element, spec.options);
}
