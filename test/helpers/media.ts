/** Browser-side access to test/helpers/media-test-server.mjs (ffmpeg-made media, ffprobe, loopback servers). */
import { DataStream, Endianness, MP4BoxBuffer, createFile, type Movie } from 'mp4box';

/** URL of an ffmpeg-made file on the test runner's own server, e.g. `h264.mp4`. */
export const mediaUrl = (name: string): string => `/__fw/media/${name}`;

/** Fetches an ffmpeg-made file as a Blob. */
export async function mediaBlob(name: string): Promise<Blob> {
  const response = await fetch(mediaUrl(name));
  if (!response.ok) throw new Error(`cannot make ${name}: ${await response.text()}`);
  return response.blob();
}

/** ffprobe's view of a file. */
export interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }[];
  format: { format_name: string; duration?: string };
  videoFrameTimes: number[];
  error?: string;
}

/** Runs ffprobe (on the Node side) over `blob`. */
export async function ffprobe(blob: Blob, ext: string): Promise<Probe> {
  const response = await fetch(`/__fw/ffprobe?ext=${ext}`, { method: 'POST', body: blob });
  return (await response.json()) as Probe;
}

/** A loopback server started by the Node side for one test. */
export interface TestServer {
  url: string;
  /** The server's id under `/__fw/servers/`. */
  id: string;
  stats(): Promise<{
    requests: unknown;
    connections: number;
    framesSent: number;
    uploads: Record<string, { bytes: number; final: number | undefined; probe: Probe | undefined; requests: number }>;
    /** `package` servers: the stored paths, PUT count, DELETEd paths, GETs of missing paths. */
    files: string[];
    puts: number;
    deleted: string[];
    misses: string[];
    /** `bridge` servers: restarts of the source process and its state. */
    restarts: number;
    state: string;
    /** `bridge` servers: WebSocket viewers, and those of them that acknowledge frames. */
    websocketClients: number;
    ackingClients: number;
    /** `ws-proxy` servers: messages injected. */
    injected: number;
  }>;
  stop(): Promise<void>;
}

/** Starts a server of `kind` (`static`, `mjpeg`, `upload`, `package`) on 127.0.0.1, port 0. */
export async function startTestServer(
  kind: 'static' | 'mjpeg' | 'upload' | 'package' | 'bridge' | 'ws-proxy',
  options: object = {},
): Promise<TestServer> {
  const response = await fetch('/__fw/servers', { method: 'POST', body: JSON.stringify({ kind, ...options }) });
  const { id, url } = (await response.json()) as { id: string; url: string };
  return {
    url,
    id,
    stats: async () => (await (await fetch(`/__fw/servers/${id}`)).json()) as Awaited<ReturnType<TestServer['stats']>>,
    stop: async () => {
      await fetch(`/__fw/servers/${id}`, { method: 'DELETE' });
    },
  };
}

/** What mp4box.js reads from an MP4 file. */
export interface Mp4Summary {
  codec: string;
  width: number;
  height: number;
  /** Video samples. */
  frames: number;
  /** Video track duration in seconds. */
  durationS: number;
  fragmented: boolean;
  audioCodec: string | undefined;
}

/** Parses an MP4 with mp4box.js (an independent reader) and summarises its video track. */
export async function readMp4(blob: Blob): Promise<Mp4Summary> {
  const file = createFile();
  const buffer = MP4BoxBuffer.fromArrayBuffer(await blob.arrayBuffer(), 0);
  const ready = new Promise<Movie>((resolve, reject) => {
    file.onReady = resolve;
    file.onError = (module: string, message: string) => reject(new Error(`${module}: ${message}`));
  });
  file.appendBuffer(buffer);
  file.flush();
  const info = await ready;
  const video = info.videoTracks[0];
  if (!video) throw new Error('no video track');
  // In a fragmented file the samples are in the fragments: count them from the parsed trak + moof boxes.
  const samples = file.getTrackSamplesInfo(video.id);
  const durationS = samples.reduce((sum, s) => sum + s.duration, 0) / video.timescale;
  return {
    codec: video.codec,
    width: video.video?.width ?? 0,
    height: video.video?.height ?? 0,
    frames: samples.length,
    durationS,
    fragmented: info.isFragmented,
    audioCodec: info.audioTracks[0]?.codec,
  };
}

/** One sample of a CMAF track, as mp4box.js reads it from the `moof` (`tfdt`, `trun` sizes, durations, flags). */
export interface CmafSample {
  /** Presentation time in seconds. */
  ptsS: number;
  /** Decode time in seconds. */
  dtsS: number;
  durationS: number;
  size: number;
  /** A sync sample (key frame): the `trun`/`tfhd`/`trex` sample flags say `sample_is_non_sync_sample = 0`. */
  key: boolean;
  /** The sample's bytes. */
  data: Uint8Array;
}

/** What mp4box.js reads from an init segment followed by one media segment. */
export interface CmafSegment {
  /** The codec string mp4box.js derives from the sample entry (`avcC`, `vpcC`, `av1C`, `esds`, `dOps`). */
  codec: string;
  type: 'video' | 'audio';
  /** The segment file's size in bytes. */
  bytes: number;
  /** Sum of the samples' durations, in seconds. */
  durationS: number;
  samples: CmafSample[];
  /** Video: the codec configuration record for `VideoDecoder` (`avcC`, `vpcC`, `av1C` body). */
  description: Uint8Array | undefined;
  width: number;
  height: number;
  /** The track's media timescale (`mdhd`), in units per second. */
  timescale: number;
  /** Audio: the sample rate of the sample entry; 0 for video. */
  sampleRate: number;
}

/** Parses `init` + `segment` with mp4box.js, an independent reader of fragmented MP4. */
export async function readCmafSegment(init: Blob, segment: Blob): Promise<CmafSegment> {
  const bytes = new Uint8Array(init.size + segment.size);
  bytes.set(new Uint8Array(await init.arrayBuffer()), 0);
  bytes.set(new Uint8Array(await segment.arrayBuffer()), init.size);
  const file = createFile();
  const ready = new Promise<Movie>((resolve, reject) => {
    file.onReady = resolve;
    file.onError = (module: string, message: string) => reject(new Error(`${module}: ${message}`));
  });
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(bytes.slice().buffer, 0));
  file.flush();
  const info = await ready;
  const track = info.tracks[0];
  if (!track) throw new Error('no track');
  const samples = file.getTrackSamplesInfo(track.id).map((s) => ({
    ptsS: s.cts / s.timescale,
    dtsS: s.dts / s.timescale,
    durationS: s.duration / s.timescale,
    size: s.size,
    key: s.is_sync,
    data: bytes.slice(s.offset, s.offset + s.size),
  }));
  const entry = file.getTrackById(track.id).mdia.minf.stbl.stsd.entries[0] as unknown as Record<string, unknown>;
  const config = (entry['avcC'] ?? entry['vpcC'] ?? entry['av1C']) as { write(stream: DataStream): void } | undefined;
  let description: Uint8Array | undefined;
  if (config) {
    const stream = new DataStream(undefined, 0, Endianness.BIG_ENDIAN);
    config.write(stream);
    description = new Uint8Array(stream.buffer, 8); // without the box header
  }
  return {
    codec: track.codec,
    type: info.videoTracks.length > 0 ? 'video' : 'audio',
    bytes: segment.size,
    durationS: samples.reduce((sum, s) => sum + s.durationS, 0),
    samples,
    description,
    width: track.video?.width ?? 0,
    height: track.video?.height ?? 0,
    timescale: track.timescale,
    sampleRate: track.audio?.sample_rate ?? 0,
  };
}

/** ffprobe (on the Node side) reading `url` over HTTP: streams and format, or `error`. */
export async function ffprobeUrl(url: string): Promise<{
  streams?: { codec_type: string; codec_name: string; width?: number; height?: number }[];
  format?: { format_name: string; duration?: string };
  error?: string;
}> {
  const response = await fetch('/__fw/ffprobe-url', { method: 'POST', body: JSON.stringify({ url }) });
  return (await response.json()) as Awaited<ReturnType<typeof ffprobeUrl>>;
}

/** `bridge` servers: SIGKILLs the bridge source's ffmpeg (the bridge restarts it). */
export async function killBridgeSource(server: TestServer): Promise<void> {
  await fetch(`/__fw/servers/${server.id}/kill-source`, { method: 'POST' });
}

/** `bridge` servers: stops the whole bridge, waits `downMs`, and starts a new one on the same port. */
export async function restartBridge(server: TestServer, downMs = 0): Promise<void> {
  await fetch(`/__fw/servers/${server.id}/restart?downMs=${downMs}`, { method: 'POST' });
}
