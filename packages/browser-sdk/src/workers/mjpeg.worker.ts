/*
 * The MJPEG worker: fetches a multipart/x-mixed-replace stream, splits it into JPEGs and decodes them with
 * ImageDecoder (createImageBitmap where there is none), all off the main thread. Frames go back transferred.
 * While two frames are in flight, new JPEGs are skipped undecoded: the newest picture wins and a slow page
 * costs no decoding work.
 */
import { MultipartParser } from './multipart-parser.js';
import type { MjpegRequest, MjpegResponse } from '../sources/mjpeg-messages.js';

interface MjpegWorkerScope {
  postMessage(message: MjpegResponse, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<MjpegRequest>) => void) | null;
}
const scope = self as unknown as MjpegWorkerScope;
const MAX_IN_FLIGHT = 2;

let connection: AbortController | undefined;
let inFlight = 0;
const startMs = performance.now();

function post(message: MjpegResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

async function decode(jpeg: Uint8Array, timestamp: number): Promise<VideoFrame> {
  if (typeof ImageDecoder === 'function') {
    const decoder = new ImageDecoder({ data: jpeg, type: 'image/jpeg' });
    try {
      const { image } = await decoder.decode();
      try {
        return new VideoFrame(image, { timestamp });
      } finally {
        image.close();
      }
    } finally {
      decoder.close();
    }
  }
  const bitmap = await createImageBitmap(new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  try {
    return new VideoFrame(bitmap, { timestamp });
  } finally {
    bitmap.close();
  }
}

async function connect(url: string): Promise<void> {
  connection?.abort();
  const controller = new AbortController();
  connection = controller;
  inFlight = 0;
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal, cache: 'no-store' });
  } catch (error) {
    if (!controller.signal.aborted)
      post({ type: 'disconnected', ended: false, status: undefined, message: String(error) });
    return;
  }
  if (!response.ok || !response.body) {
    post({ type: 'disconnected', ended: false, status: response.status, message: `HTTP ${response.status}` });
    controller.abort();
    return;
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(response.headers.get('content-type') ?? '')?.[1];
  if (!boundary) {
    post({ type: 'disconnected', ended: false, status: undefined, message: 'not a multipart response' });
    controller.abort();
    return;
  }
  post({ type: 'connected' });
  const parser = new MultipartParser(boundary);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const jpeg of parser.push(value)) {
        if (controller.signal.aborted) return;
        if (inFlight >= MAX_IN_FLIGHT) continue;
        try {
          const frame = await decode(jpeg, Math.round((performance.now() - startMs) * 1000));
          inFlight++;
          post({ type: 'frame', frame, captureTimeMs: Date.now() }, [frame]);
        } catch (error) {
          post({ type: 'skipped', reason: String(error) });
        }
      }
    }
    if (!controller.signal.aborted) post({ type: 'disconnected', ended: true, status: undefined, message: 'ended' });
  } catch (error) {
    if (!controller.signal.aborted)
      post({ type: 'disconnected', ended: false, status: undefined, message: String(error) });
  }
}

scope.onmessage = (event: MessageEvent<MjpegRequest>) => {
  const message = event.data;
  switch (message.type) {
    case 'connect':
      void connect(message.url);
      break;
    case 'ack':
      inFlight = Math.max(0, inFlight - 1);
      break;
    case 'disconnect':
      connection?.abort();
      connection = undefined;
      break;
  }
};
