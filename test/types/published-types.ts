// Compiled against the built `.d.ts` files (no `source` condition): the types a user installs must resolve and
// describe the API as documented. (Dependencies' own .d.ts are not checked: @types/dom-webcodecs, which
// mediabunny references, clashes with TypeScript 6's DOM library.)
import {
  CameraSource,
  FileSource,
  FramewireError,
  Recorder,
  WorkerVideoEncoder,
  openSource,
  type FrameSource,
  type RecordingOutput,
} from '@framewire/browser-sdk';
import { BridgeServer, createTestPatternSource, type BridgeHealth } from '@framewire/node-bridge';
import { SignalingServer, type SignalingHealth } from '@framewire/signaling';

export async function readOne(): Promise<number | undefined> {
  const source: FrameSource = await CameraSource.open({ width: 640 });
  const frame = await source.read();
  const width = frame?.displayWidth;
  frame?.close();
  await source.close();
  return width;
}

export function isBusy(error: unknown): boolean {
  return error instanceof FramewireError && error.code === 'FW_ERR_DEVICE_BUSY';
}

export async function servers(): Promise<[BridgeHealth, SignalingHealth]> {
  const bridge = await BridgeServer.start({ port: 0, sources: [createTestPatternSource()] });
  const signaling = await SignalingServer.start({ port: 0, secret: 'a-secret-of-at-least-16-chars' });
  const result: [BridgeHealth, SignalingHealth] = [bridge.health, signaling.health];
  await Promise.all([bridge.close(), signaling.close()]);
  return result;
}

export async function encoder(): Promise<VideoEncoderConfig> {
  const created = await WorkerVideoEncoder.open({ codec: 'vp8', width: 320, height: 240 });
  created.close();
  return created.config;
}

export async function recordFile(file: Blob): Promise<[RecordingOutput, AudioDecoderConfig | null | undefined]> {
  const source = await openSource({ file, options: { pace: 'fast' } });
  const recorder = new Recorder({ container: 'webm', codec: ['vp9', 'av1'], target: { opfs: 'x.webm' } });
  await recorder.record(source, { durationMs: 1000 });
  const audio = source instanceof FileSource ? await source.audio?.track.getDecoderConfig() : null;
  return [await recorder.finalize(), audio];
}
