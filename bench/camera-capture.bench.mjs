// Camera capture rate after a slow consumer: framewire's CameraSource vs a bare MediaStreamTrackProcessor on the
// same fake camera (640×480, 30 fps asked; the fake one gives about 20), each first read slowly (5 frames,
// 300 ms apart), then as fast as frames come. test/browser/camera-source.test.ts checks that capture goes on
// after a slow consumer; this measures that it goes on at the camera's rate.
export const name = 'Camera capture, 640×480, 60 frames read after a slow consumer: CameraSource vs bare track reader';

const FRAMES = 60;

function captureInPage(page, mode) {
  return page.evaluate(
    async ({ frames, mode }) => {
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const constraints = { width: 640, height: 480, frameRate: 30 };
      let read;
      let close;
      if (mode === 'framewire') {
        const camera = await (await import('/sdk/index.js')).CameraSource.open(constraints);
        read = () => camera.read();
        close = () => camera.close();
      } else {
        const stream = await navigator.mediaDevices.getUserMedia({ video: constraints });
        const [track] = stream.getVideoTracks();
        const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
        read = async () => (await reader.read()).value ?? null;
        close = async () => {
          await reader.cancel();
          track.stop();
        };
      }
      try {
        for (let i = 0; i < 5; i++) {
          (await read())?.close();
          await sleep(300);
        }
        (await read())?.close();
        const start = performance.now();
        for (let i = 0; i < frames; i++) {
          const frame = await read();
          if (!frame) throw new Error('the camera ended');
          frame.close();
        }
        return (frames * 1000) / (performance.now() - start);
      } finally {
        await close();
      }
    },
    { frames: FRAMES, mode },
  );
}

export async function run({ page, repeats }) {
  const ours = [];
  const baseline = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(await captureInPage(page, 'framewire'));
    baseline.push(await captureInPage(page, 'bare'));
  }
  return { unit: 'fps', oursLabel: 'CameraSource', ours, baselineLabel: 'MediaStreamTrackProcessor', baseline };
}
