import { FramewireError, assertOption } from '@framewire/core';
import { CameraSource, type CameraSourceOptions } from './camera-source.js';
import { ScreenSource, type ScreenSourceOptions } from './screen-source.js';
import { FileSource, type FileInput, type FileSourceOptions } from './file-source.js';
import { StreamSource, type StreamSourceOptions } from './stream-source.js';
import { ElementSource, type ElementSourceOptions, type FrameElement } from './element-source.js';
import type { FrameSource } from './frame-source.js';

/** Stabilizer settings accepted by {@link openSource} (vidgear's `stabilize=True` and its options). */
export type StabilizeOption = boolean | Record<string, unknown>;

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
 * `{ element }` an {@link ElementSource}. Rejects with `FW_ERR_INVALID_OPTION` unless exactly one kind is given,
 * with the chosen source's own errors otherwise, and with `FW_ERR_NOT_SUPPORTED` for `stabilize` while this build
 * has no stabilizer (it is checked first, so nothing is opened).
 *
 * @example
 * ```ts
 * const source = await Framewire.openSource({ camera: { width: 1280, height: 720 } });
 * const file = await Framewire.openSource({ file: input.files[0], options: { loop: true } });
 * ```
 */
export async function openSource(spec: SourceSpec): Promise<FrameSource> {
  assertOption(typeof spec === 'object', 'spec must be an object such as { camera: {} }');
  const given = KINDS.filter((kind) => kind in spec);
  assertOption(
    given.length === 1,
    `spec must have exactly one of ${KINDS.join(', ')}; got ${given.join(', ') || 'none'}`,
  );
  if (spec.stabilize !== undefined && spec.stabilize !== false) {
    throw new FramewireError(
      'FW_ERR_NOT_SUPPORTED',
      'spec.stabilize: this build of framewire has no stabilizer yet; open the source without it',
      { fatal: true, stage: 'options' },
    );
  }
  if ('camera' in spec) return CameraSource.open(spec.camera === true ? {} : spec.camera);
  if ('screen' in spec) return ScreenSource.open(spec.screen === true ? {} : spec.screen);
  if ('file' in spec) return FileSource.open(spec.file, spec.options);
  if ('url' in spec) return StreamSource.open(spec.url, spec.options);
  return new ElementSource(spec.element, spec.options);
}
