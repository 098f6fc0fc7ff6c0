import { FramewireError, TypedEmitter, assertOption } from '@framewire/core';
import type { AudioInfo } from '../media/audio-packet.js';
import { OpusStreamReader } from '../media/opus-stream-reader.js';
import { audioDeviceInputArgs, opusOutputArgs } from '../process/audio-args.js';
import { ffmpegPrelude } from '../process/ffmpeg-args.js';
import { SupervisedProcess } from '../process/supervised-process.js';
import type { AudioInput, AudioInputEvents } from './audio-input.js';

/** Options of {@link DeviceAudioCapture}. */
export interface DeviceAudioCaptureOptions {
  /** `alsa` or `pulse`. Required. */
  kind: 'alsa' | 'pulse';
  /** The device: ALSA's `hw:1,0`, `plughw:1`, `default`…, PulseAudio's source name or `default`. Required. */
  device: string;
  /** Channels to encode, 1 or 2 (a stereo device is downmixed with 1). Default: 2. */
  channels?: 1 | 2;
  /** ffmpeg executable. Default: `ffmpeg`. */
  ffmpegPath?: string;
  /** First restart delay after a failure, in ms; doubles up to 10 s. Default: 1000. */
  restartDelayMs?: number;
}

/** The ffmpeg arguments of a {@link DeviceAudioCapture} (exported for tests and logs). */
export function deviceAudioCaptureArgs(options: DeviceAudioCaptureOptions): string[] {
  assertOption(['alsa', 'pulse'].includes(options.kind), `kind must be alsa or pulse; got ${options.kind}`);
  assertOption(
    typeof options.device === 'string' && /^[\w.,:@/=-]{1,200}$/.test(options.device),
    `device must be an ALSA or PulseAudio device name; got ${options.device}`,
  );
  const channels = options.channels ?? 2;
  assertOption([1, 2].includes(channels), 'channels must be 1 or 2');
  return [
    ...ffmpegPrelude(),
    ...audioDeviceInputArgs({ kind: options.kind, device: options.device }),
    ...opusOutputArgs('0:a:0', 'pipe:1', channels),
  ];
}

/** ffmpeg's messages for a device that does not exist or cannot be opened. */
const MISSING_DEVICE =
  /No such file or directory|cannot open audio device|No such device|No such process|Connection refused|No such entity|Input\/output error/i;

/**
 * An ALSA or PulseAudio capture device (a USB microphone beside a Pi camera), encoded to Opus once by a supervised
 * ffmpeg (48 kHz, 20 ms frames). Give it to a source with `source.attachAudio()`: its packets become the source's
 * audio. A device that is missing or cannot be opened is reported as a non-fatal `FW_ERR_DEVICE_NOT_FOUND` (other
 * failures `FW_ERR_PROCESS_FAILED`) and retried with backoff; the source's video is not affected.
 */
export class DeviceAudioCapture implements AudioInput {
  /** @inheritdoc */
  readonly info: AudioInfo;
  /** The ffmpeg command line after the executable. */
  readonly args: readonly string[];
  readonly #events = new TypedEmitter<AudioInputEvents>();
  readonly #process: SupervisedProcess;
  #reader = new OpusStreamReader();

  /** Validates the options; `start()` opens the device. */
  constructor(options: DeviceAudioCaptureOptions) {
    this.args = deviceAudioCaptureArgs(options);
    this.info = { codec: 'opus', sampleRate: 48_000, channels: options.channels ?? 2 };
    const name = `${options.kind} audio "${options.device}"`;
    this.#process = new SupervisedProcess({
      name,
      command: options.ffmpegPath ?? 'ffmpeg',
      args: [...this.args],
      restartDelayMs: options.restartDelayMs ?? 1000,
    });
    this.#process.on('spawn', () => {
      this.#reader = new OpusStreamReader();
    });
    this.#process.on('stdout', ({ chunk }) => {
      let packets;
      try {
        packets = this.#reader.push(chunk);
      } catch (error) {
        this.#events.emit('error', { error: error as FramewireError, fatal: false });
        this.#reader = new OpusStreamReader();
        return;
      }
      for (const packet of packets) this.#events.emit('packet', { packet });
    });
    this.#process.on('error', ({ error }) => {
      const missing = MISSING_DEVICE.test(error.message);
      const reported = missing
        ? new FramewireError('FW_ERR_DEVICE_NOT_FOUND', `${name} cannot be opened: ${error.message}`, {
            cause: error,
            stage: 'source',
          })
        : error;
      this.#events.emit('error', { error: reported, fatal: false });
    });
  }

  /** @inheritdoc */
  on<E extends keyof AudioInputEvents>(event: E, listener: (payload: AudioInputEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** @inheritdoc */
  start(): void {
    this.#process.start();
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    await this.#process.close();
    this.#events.removeAllListeners();
  }
}
