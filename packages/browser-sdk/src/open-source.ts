import { assertOption } from '@framewire/core';
import { stabilize, type StabilizedSourceOptions } from './transforms/stabilized-source.js';
import { resolveStabilizerOptions } from './transforms/stabilizer/stabilizer-options.js';
import { CameraSource, type CameraSourceOptions } from './sources/camera-source.js';
import { ScreenSource, type ScreenSourceOptions } from './sources/screen-source.js';
import { FileSource, type FileInput, type FileSourceOptions } from './sources/file-source.js';
import { StreamSource, type StreamSourceOptions } from './sources/stream-source.js';
import { BridgeSource, type BridgeSourceOptions } from './sources/bridge-source.js';
import { WhepSource } from './sources/whep-source.js';
import { ElementSource, type ElementSourceOptions, type FrameElement } from './sources/element-source.js';
import type { FrameSource } from './core/frame-source.js';

/**
 * Stabilization for {@link openSource} (vidgear's `stabilize=True`): `true` for the defaults, or the
 * stabilizer's options (`smoothingRadius`, `lookaheadFrames`, `borderSize`, …; see `Stabilizer`).
 */
export type StabilizeOption = boolean | StabilizedSourceOptions;

/**
 * What {@link openSource} opens: exactly one of `camera`, `screen`, `file`, `url`, `bridge` or `element`, with that
 * source's options, plus the options every source shares.
 */
export type SourceSpec = (
  | { camera: CameraSourceOptions | true }
  | { screen: ScreenSourceOptions | true }
  | { file: FileInput; options?: FileSourceOptions }
  | { url: string | URL; options?: StreamSourceOptions }
  | { bridge: string | URL | BridgeSourceOptions }
  | { element: FrameElement; options?: ElementSourceOptions }
) & {
  /** Stabilizes the frames (vidgear's `VideoGear(stabilize=True)`). Default: `false`. */
  stabilize?: StabilizeOption;
};

const KINDS = ['camera', 'screen', 'file', 'url', 'bridge', 'element'] as const;

/**
 * Opens any source with one call — vidgear's `VideoGear`: `{ camera: {...} }` opens a {@link CameraSource},
 * `{ screen: {...} }` a {@link ScreenSource}, `{ file }` a {@link FileSource}, `{ url }` a {@link StreamSource}, `{ bridge }` a
 * {@link BridgeSource} (the Node bridge's H.264 over WebSocket; with `transport: 'webrtc'`, a {@link WhepSource}),
 * `{ element }` an {@link ElementSource}. With `stabilize`, the source's frames go through a `Stabilizer` (in a
 * Worker) and the returned source owns the opened one. Rejects with `FW_ERR_INVALID_OPTION` unless exactly one
 * kind is given (or on bad stabilizer options, checked before anything opens), and with the chosen source's own
 * errors otherwise.
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
  const stabilizeWith = spec.stabilize === true ? {} : spec.stabilize === false ? undefined : spec.stabilize;
  // Plain-JavaScript callers are not held to the type.
  assertOption(
    stabilizeWith === undefined || typeof (stabilizeWith as unknown) === 'object',
    'spec.stabilize must be true, false or the stabilizer options',
  );
  // Bad stabilizer options fail (FW_ERR_INVALID_OPTION) before any device opens.
  if (stabilizeWith) resolveStabilizerOptions(stabilizeWith);
  const source = await openKind(spec);
  if (!stabilizeWith) return source;
  try {
    return stabilize(source, stabilizeWith);
  } catch (error) {
    await source.close();
    throw error;
  }
}

function openKind(spec: SourceSpec): Promise<FrameSource> {
  if ('camera' in spec) return CameraSource.open(spec.camera === true ? {} : spec.camera);
  if ('screen' in spec) return ScreenSource.open(spec.screen === true ? {} : spec.screen);
  if ('file' in spec) return FileSource.open(spec.file, spec.options);
  if ('url' in spec) return StreamSource.open(spec.url, spec.options);
  if ('bridge' in spec) {
    const bridge = spec.bridge;
    if (typeof bridge === 'object' && !(bridge instanceof URL) && bridge.transport === 'webrtc') {
      return WhepSource.open(bridge);
    }
    return BridgeSource.open(spec.bridge);
  }
  return Promise.resolve(new ElementSource(spec.element, spec.options));
}
