/*
 * The WebCodecs encoder worker: frames arrive transferred from the main thread, encoded chunks go back with their
 * bytes transferred. Encoding off the main thread keeps the page responsive at 1080p.
 */
import type { EncoderRequest, EncoderResponse } from '../encoders/encoder-messages.js';

// The SDK compiles against the DOM library; these are the few worker-scope members this file uses.
interface EncoderWorkerScope {
  postMessage(message: EncoderResponse, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<EncoderRequest>) => void) | null;
  close(): void;
}
const scope = self as unknown as EncoderWorkerScope;

let encoder: VideoEncoder | undefined;
let encoderConfig: VideoEncoderConfig | undefined;
let keyFrameInterval = 0;
let quantizer: number | undefined;
let fit: 'fill' | 'contain' = 'fill';
let scaler: OffscreenCanvasRenderingContext2D | undefined;
let frameCount = 0;
let received = 0;
// Capture stamps by timestamp: the encoder gives chunks back with the frame's timestamp, not the frame.
const captureTimes = new Map<number, number>();

function post(message: EncoderResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function fail(code: 'FW_ERR_CODEC_UNSUPPORTED' | 'FW_ERR_ENCODE_FAILED', message: string): void {
  post({ type: 'error', code, message });
}

/**
 * A frame of the configured size: frames of another size (a resized window, a changed stream) or with a
 * rotation are drawn onto a canvas of the encoder's size, so the encoder always gets what it was configured for.
 * `fill` stretches the picture to that size; `contain` keeps its aspect ratio, centred between black bars
 * (letterbox or pillarbox), as a live ladder of fixed sizes needs when the source changes shape.
 */
function fitted(frame: VideoFrame, config: VideoEncoderConfig): VideoFrame {
  const rotation = (frame as VideoFrame & { rotation?: number }).rotation ?? 0;
  if (frame.displayWidth === config.width && frame.displayHeight === config.height && rotation === 0) return frame;
  if (scaler?.canvas.width !== config.width || scaler.canvas.height !== config.height) {
    scaler = new OffscreenCanvas(config.width, config.height).getContext('2d') ?? undefined;
  }
  if (!scaler) return frame;
  const { width, height } = config;
  const scale = Math.min(width / frame.displayWidth, height / frame.displayHeight);
  const drawnWidth = fit === 'contain' ? Math.min(width, Math.round(frame.displayWidth * scale)) : width;
  const drawnHeight = fit === 'contain' ? Math.min(height, Math.round(frame.displayHeight * scale)) : height;
  if (drawnWidth < width || drawnHeight < height) {
    scaler.fillStyle = '#000';
    scaler.fillRect(0, 0, width, height);
  }
  scaler.drawImage(frame, (width - drawnWidth) / 2, (height - drawnHeight) / 2, drawnWidth, drawnHeight);
  const init: VideoFrameInit = { timestamp: frame.timestamp };
  if (frame.duration !== null) init.duration = frame.duration;
  const scaled = new VideoFrame(scaler.canvas, init);
  frame.close();
  return scaled;
}

/** Per-frame options: the key-frame flag, and the quantizer in `quantizer` bitrate mode. */
function encodeOptions(codec: string, keyFrame: boolean): VideoEncoderEncodeOptions {
  const options: VideoEncoderEncodeOptions & { avc?: object; vp9?: object; av1?: object } = { keyFrame };
  if (quantizer === undefined) return options;
  if (codec.startsWith('avc')) options.avc = { quantizer };
  else if (codec.startsWith('vp09')) options.vp9 = { quantizer };
  else if (codec.startsWith('av01')) options.av1 = { quantizer };
  return options;
}

async function configure(config: VideoEncoderConfig, interval: number): Promise<void> {
  const support = await VideoEncoder.isConfigSupported(config).catch(() => ({ supported: false, config }));
  if (!support.supported) {
    fail('FW_ERR_CODEC_UNSUPPORTED', `This browser cannot encode ${config.codec} at ${config.width}x${config.height}`);
    return;
  }
  encoder = new VideoEncoder({
    output: (chunk, metadata) => {
      const data = new ArrayBuffer(chunk.byteLength);
      chunk.copyTo(data);
      const captureTimeMs = captureTimes.get(chunk.timestamp);
      captureTimes.delete(chunk.timestamp);
      const decoderConfig = metadata?.decoderConfig;
      post(
        {
          type: 'chunk',
          chunk: { chunkType: chunk.type, timestampUs: chunk.timestamp, durationUs: chunk.duration ?? 0, data },
          decoderConfig,
          captureTimeMs,
        },
        [data],
      );
    },
    error: (error) => fail('FW_ERR_ENCODE_FAILED', error.message),
  });
  encoder.ondequeue = () => {
    if (encoder) post({ type: 'dequeued', done: received - encoder.encodeQueueSize });
  };
  encoder.configure(config);
  encoderConfig = config;
  keyFrameInterval = interval;
  frameCount = 0;
  post({ type: 'configured', config: support.config ?? config });
}

scope.onmessage = (event: MessageEvent<EncoderRequest>) => {
  const message = event.data;
  switch (message.type) {
    case 'configure':
      quantizer = message.quantizer;
      fit = message.fit;
      void configure(message.config, message.keyframeIntervalFrames);
      break;
    case 'encode': {
      if (encoder?.state !== 'configured') {
        message.frame.close();
        fail('FW_ERR_ENCODE_FAILED', 'encode() before configure() succeeded');
        break;
      }
      let frame = message.frame;
      if (message.captureTimeMs !== undefined) captureTimes.set(frame.timestamp, message.captureTimeMs);
      const keyFrame = message.keyFrame || (keyFrameInterval > 0 && frameCount % keyFrameInterval === 0);
      frameCount++;
      received++;
      try {
        frame = fitted(frame, encoderConfig ?? { codec: '', width: frame.displayWidth, height: frame.displayHeight });
        encoder.encode(frame, encodeOptions(encoderConfig?.codec ?? '', keyFrame));
      } catch (error) {
        fail('FW_ERR_ENCODE_FAILED', String(error));
      } finally {
        frame.close();
      }
      break;
    }
    case 'flush': {
      const { id } = message;
      const done = encoder?.state === 'configured' ? encoder.flush() : Promise.resolve();
      done.then(
        () => post({ type: 'flushed', id }),
        (error: unknown) => fail('FW_ERR_ENCODE_FAILED', String(error)),
      );
      break;
    }
    case 'close':
      if (encoder && encoder.state !== 'closed') encoder.close();
      scope.close();
      break;
  }
};
