import { Recorder } from '@framewire/browser-sdk';

/** Records a `seconds` long 640×360 WebM (VP8) of a moving test card with `Framewire.Recorder`, as fast as it encodes. */
export async function makeTestClip(seconds: number, onProgress: (percent: number) => void): Promise<File> {
  const fps = 30;
  const canvas = new OffscreenCanvas(640, 360);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D context');
  const recorder = new Recorder({ container: 'webm', codec: 'vp8', bitrateBps: 1_000_000 });
  const total = seconds * fps;
  for (let i = 0; i < total; i++) {
    context.fillStyle = `hsl(${(i * 6) % 360} 60% 40%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = '#fff';
    context.fillRect(40 + ((i * 8) % 520), 140, 80, 80);
    context.font = '48px sans-serif';
    context.fillText(`frame ${i}`, 40, 80);
    await recorder.write(new VideoFrame(canvas, { timestamp: Math.round((i * 1e6) / fps), duration: 1e6 / fps }));
    onProgress(((i + 1) / total) * 100);
  }
  const blob = (await recorder.finalize()) as Blob;
  return new File([blob], 'framewire-test-clip.webm', { type: 'video/webm' });
}
