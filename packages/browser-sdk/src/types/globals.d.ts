// Globals the SDK uses that TypeScript's DOM library does not declare yet. Files that use them reference this
// file, so that any program compiling the SDK sources (the demo, the tests) sees the declarations too.

/** Options of `MediaStreamTrackProcessor` (Insertable Streams for MediaStreamTrack, shipped by Chromium). */
interface MediaStreamTrackProcessorInit {
  track: MediaStreamTrack;
  maxBufferSize?: number;
}

/** Turns a video track into a stream of `VideoFrame`s. */
interface MediaStreamTrackProcessor<T = VideoFrame> {
  readonly readable: ReadableStream<T>;
}

declare var MediaStreamTrackProcessor: {
  prototype: MediaStreamTrackProcessor;
  new (init: MediaStreamTrackProcessorInit): MediaStreamTrackProcessor;
};

/** Defined by the build (rollup `define`): the package version; undefined when running from source. */
declare const __FRAMEWIRE_VERSION__: string | undefined;

/** Options of `MediaStreamTrackGenerator` (Chromium). */
interface MediaStreamTrackGeneratorInit {
  kind: 'video' | 'audio';
}

/** A video track fed with `VideoFrame`s through `writable` (Chromium's Insertable Streams). */
interface MediaStreamTrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<VideoFrame>;
}

declare var MediaStreamTrackGenerator:
  | {
      prototype: MediaStreamTrackGenerator;
      new (init: MediaStreamTrackGeneratorInit): MediaStreamTrackGenerator;
    }
  | undefined;
