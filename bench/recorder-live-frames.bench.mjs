// Live recording keeps its frames: the fake camera recorded for 3 s by `Recorder.record(CameraSource)` (the pipeline
// a user builds), per codec and size, against the frames the same camera delivers in 3 s to a bare reader that only
// closes them (measured in the same run, just before). The figure is the share of the camera's frames the recording
// holds, read back from the file by mediabunny's demuxer.
import { loadBundle } from './media-fixture.mjs';

export const name = 'Live recording of the fake camera, 3 s: frames in the file vs frames the camera delivered';

const SIZES = [
  [1280, 720],
  [640, 480],
];
const CODECS = [
  ['avc', 'mp4'],
  ['vp8', 'webm'],
  ['vp9', 'webm'],
  ['av1', 'webm'],
];
const DURATION_MS = 3000;

/** Frames of a bare reader of the camera over `DURATION_MS` of frame timestamps. */
function bareFrames(page, width, height, durationMs) {
  return page.evaluate(
    async ({ width, height, durationMs }) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height } });
      const [track] = stream.getVideoTracks();
      const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
      let first;
      let frames = 0;
      for (;;) {
        const { value } = await reader.read();
        first ??= value.timestamp;
        const within = value.timestamp - first < durationMs * 1000;
        value.close();
        if (!within) break;
        frames++;
      }
      reader.releaseLock();
      track.stop();
      return frames;
    },
    { width, height, durationMs },
  );
}

/** Frames in a `durationMs` recording of the camera by the Recorder, counted in the file by the demuxer. */
function recordedFrames(page, width, height, codec, container, durationMs) {
  return page.evaluate(
    async ({ width, height, codec, container, durationMs }) => {
      const { CameraSource, Recorder, loadMediabunny } = globalThis.Framewire;
      const camera = await CameraSource.open({ width, height });
      const recorder = new Recorder({ container, codec });
      try {
        await recorder.record(camera, { durationMs });
      } finally {
        await camera.close();
      }
      const blob = await recorder.finalize();
      const mb = await loadMediabunny();
      const input = new mb.Input({ source: new mb.BlobSource(blob), formats: mb.ALL_FORMATS });
      const track = await input.getPrimaryVideoTrack();
      const sink = new mb.EncodedPacketSink(track);
      let frames = 0;
      for await (const packet of sink.packets()) if (packet) frames++;
      return { frames, codec: recorder.codec, dropped: recorder.stats.framesDropped ?? 0 };
    },
    { width, height, codec, container, durationMs },
  );
}

/** One row per codec and size: frames recorded (ours) against frames delivered to a bare reader (baseline). */
export async function run({ page, repeats }) {
  await loadBundle(page);
  const rows = [];
  const notes = [];
  for (const [width, height] of SIZES) {
    for (const [codec, container] of CODECS) {
      const ours = [];
      const baseline = [];
      for (let i = 0; i < Math.min(repeats, 3); i++) {
        baseline.push(await bareFrames(page, width, height, DURATION_MS));
        const recorded = await recordedFrames(page, width, height, codec, container, DURATION_MS);
        if (recorded.codec !== codec) throw new Error(`asked for ${codec}, recorded ${String(recorded.codec)}`);
        ours.push(recorded.frames);
        if (recorded.dropped > 0) notes.push(`- ${codec} ${width}×${height}: the recorder dropped ${recorded.dropped}`);
      }
      rows.push({
        name: `${name} (${codec}, ${width}×${height})`,
        unit: 'frames',
        ours,
        baseline,
        oursLabel: `${codec} ${width}×${height} recording`,
        baselineLabel: 'camera frames, bare reader',
      });
    }
  }
  return { rows, notes };
}
