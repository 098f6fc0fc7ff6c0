import type { MediabunnyApi } from '../../core/mediabunny-loader.js';
import type { PackageWriter } from './package-writer.js';
import type { ResolvedRendition } from './packager-options.js';
import type { TrackPackager } from './track-packager.js';
import type { VideoRendition } from './video-rendition.js';
import type { MediaStreamAudioTrackSource } from 'mediabunny';

/** One packaging run of a {@link Packager}: its target, tracks, encoders and what the manifests describe. */
export interface PackagerRun {
  /** The loaded mediabunny module. */
  mb: MediabunnyApi;
  /** Where files go. */
  writer: PackageWriter;
  /** Live (`start()`) rather than a file (`package()`). */
  live: boolean;
  /** The video's frame rate, for manifests and segment timing. */
  frameRate: number;
  /** One CMAF track per video rendition, in ladder order. */
  videoTracks: TrackPackager[];
  /** The encoders of a transcoded ladder (empty when copying). */
  renditions: VideoRendition[];
  /** The ladder actually packaged. */
  ladder: ResolvedRendition[];
  /** Each track's nominal bitrate, by track id. */
  nominalBps: Map<string, number>;
  /** The audio track, when there is one. */
  audioTrack: TrackPackager | undefined;
  /** The audio's sample rate and channels, for manifests. */
  audioInfo: { sampleRate: number; channels: number } | undefined;
  /** The audio's codec string, once known. */
  audioCodecString: string | undefined;
  /** Settles when the audio copy or encode has ended. */
  audioPump: Promise<void>;
  /** A live microphone's encoder, when the audio comes from one. */
  micSource: MediaStreamAudioTrackSource | undefined;
  /** Whether the video is copied without re-encoding. */
  transmuxed: boolean;
}
