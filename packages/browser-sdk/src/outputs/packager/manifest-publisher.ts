import { FramewireError } from '@framewire/core';
import { writeMpd } from './dash/mpd-writer.js';
import { writeMasterPlaylist, writeMediaPlaylist } from './hls/hls-playlist-writer.js';
import {
  MASTER_PLAYLIST_PATH,
  MPD_PATH,
  mediaPlaylistPath,
  segmentPath,
  type PresentationDescription,
  type TrackDescription,
} from './package-model.js';
import { packageMimeType } from './package-writer.js';
import type { PackagerOptions, ResolvedRendition } from './packager-options.js';
import type { PackagerRun } from './packager-run.js';
import type { TrackPackager } from './track-packager.js';

/**
 * Writes a {@link Packager}'s DASH and HLS manifests for the segments already on the target, and, live, removes
 * segments that left the window. Manifests only ever list what is written (live, after the last segment that could
 * not be written); media playlists come before the master and the MPD, so a client never sees a manifest before
 * what it lists. A manifest write that fails stops that round: the next ones, and the removals, wait for the next.
 */
export class ManifestPublisher {
  /** The manifests written so far (paths relative to the package root). */
  readonly paths = new Set<string>();
  /** Live: when the presentation became available (epoch ms), for the MPD. */
  availabilityStartMs = 0;
  readonly #options: PackagerOptions;
  readonly #segmentDurationS: number;
  #targetDurationS: number;
  readonly #deletedUpTo = new Map<string, number>();

  /** Uses the packager's (validated) options: formats, segment duration and live windows. */
  constructor(options: PackagerOptions) {
    this.#options = options;
    this.#segmentDurationS = options.segmentDurationS ?? 2;
    this.#targetDurationS = Math.max(1, Math.ceil(this.#segmentDurationS));
  }

  /** Accounts for a written segment's duration (HLS's target duration covers the longest one). */
  noteSegmentDuration(durationS: number): void {
    this.#targetDurationS = Math.max(this.#targetDurationS, Math.round(durationS));
  }

  /**
   * Writes the manifests of `run` (`final`: the package is complete) and resolves with their paths; `undefined`
   * while no rendition has a complete segment. Rejects with `FW_ERR_SOURCE_ENDED_EARLY` when a final package has
   * none, and with the writer's error when a write fails.
   */
  async publish(run: PackagerRun, final: boolean): Promise<string[] | undefined> {
    const presentation = this.#describe(run, final);
    if (!presentation) {
      if (final) {
        throw new FramewireError('FW_ERR_SOURCE_ENDED_EARLY', 'No complete segment was made', {
          fatal: true,
          stage: 'package',
        });
      }
      return undefined;
    }
    const formats = this.#options.formats ?? ['dash', 'hls'];
    const written: string[] = [];
    const put = async (path: string, text: string): Promise<void> => {
      await run.writer.write(path, text, packageMimeType(path));
      this.paths.add(path);
      written.push(path);
    };
    if (formats.includes('hls')) {
      for (const track of presentation.tracks) {
        await put(mediaPlaylistPath(track.id), writeMediaPlaylist(presentation, track));
      }
      await put(MASTER_PLAYLIST_PATH, writeMasterPlaylist(presentation));
    }
    if (formats.includes('dash')) await put(MPD_PATH, writeMpd(presentation));
    if (run.live) await this.#deleteOld(run, presentation);
    return written;
  }

  /** The manifests' view: video renditions cut to the segments every one of them has written; the live window. */
  #describe(run: PackagerRun, final: boolean): PresentationDescription | undefined {
    const window = this.#options.windowSize ?? 5;
    const common = Math.min(...run.videoTracks.map((t) => t.segments.length));
    if (!Number.isFinite(common) || common === 0) return undefined;
    const describe = (track: TrackPackager, rung: ResolvedRendition | undefined): TrackDescription => {
      const all = track.type === 'video' ? track.segments.slice(0, common) : track.segments;
      // Live: a manifest lists only segments after the last one lost, so it never names a file the origin lacks
      // and its numbers and times stay contiguous.
      const usable = all.slice(all.map((s) => s.lost === true).lastIndexOf(true) + 1);
      const listed = run.live ? usable.slice(-window) : usable;
      let peak = 0;
      let bits = 0;
      let seconds = 0;
      for (const s of all) {
        const d = s.durationTicks / track.timescale;
        if (d > 0) peak = Math.max(peak, (s.bytes * 8) / d);
        bits += s.bytes * 8;
        seconds += d;
      }
      const nominal = run.nominalBps.get(track.id) ?? 0;
      const codec =
        track.codec ??
        (track.type === 'audio'
          ? (run.audioCodecString ?? (this.#options.audioCodec === 'aac' ? 'mp4a.40.2' : 'Opus'))
          : (run.renditions.find((r) => r.rendition.id === track.id)?.codecString ?? 'avc1.640028'));
      return {
        id: track.id,
        type: track.type,
        codec,
        bandwidthBps: Math.ceil(Math.max(peak, run.live ? nominal : 0, 1)),
        averageBandwidthBps: Math.ceil(seconds > 0 ? bits / seconds : nominal),
        ...(rung ? { width: rung.width, height: rung.height, frameRate: run.frameRate } : {}),
        ...(track.type === 'audio' && run.audioInfo ? run.audioInfo : {}),
        timescale: track.timescale,
        segments: listed,
      };
    };
    const unready = (t: TrackPackager): boolean => !t.initWritten || t.segments.slice(0, common).at(-1)?.lost === true;
    if (run.videoTracks.some(unready) || (run.audioTrack && !run.audioTrack.initWritten)) return undefined;
    const tracks = run.videoTracks.map((t) =>
      describe(
        t,
        run.ladder.find((r) => r.id === t.id),
      ),
    );
    if (run.audioTrack && run.audioTrack.timescale > 0) tracks.push(describe(run.audioTrack, undefined));
    return {
      live: run.live,
      ended: final,
      segmentDurationS: this.#segmentDurationS,
      targetDurationS: this.#targetDurationS,
      availabilityStartTimeMs: this.availabilityStartMs,
      publishTimeMs: Date.now(),
      timeShiftBufferDepthS: this.#segmentDurationS * window,
      tracks,
    };
  }

  /** Live: removes segments that left the window more than `extraWindowSize` segments ago. */
  async #deleteOld(run: PackagerRun, presentation: PresentationDescription): Promise<void> {
    const extra = this.#options.extraWindowSize ?? 5;
    const tracks = [...run.videoTracks, ...(run.audioTrack ? [run.audioTrack] : [])];
    for (const track of tracks) {
      const listed = presentation.tracks.find((t) => t.id === track.id)?.segments[0]?.number;
      if (listed === undefined) continue;
      const upTo = listed - 1 - extra;
      const from = (this.#deletedUpTo.get(track.id) ?? 0) + 1;
      for (let n = from; n <= upTo; n++) {
        const path = segmentPath(track.id, n);
        await run.writer.remove(path);
        track.forget(path);
      }
      if (upTo >= from) this.#deletedUpTo.set(track.id, upTo);
    }
  }
}
