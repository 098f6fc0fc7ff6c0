import { FramewireError, assertOption } from '@framewire/core';
import { assertCaptureSize } from './capture-size-options.js';
import { TrackSource } from './track-source.js';
import { mediaDeviceError } from './media-device-error.js';
import type { SourceQueueOptions } from '../core/frame-source.js';
import { assertSecureContext } from '../core/secure-context.js';

/** Options of {@link CameraSource.open}. Every field is optional; with none, the default camera opens. */
export interface CameraSourceOptions {
  /** Exact device to open (from {@link CameraSource.list}). Default: the browser's choice. */
  deviceId?: string;
  /** Opens the first camera whose label contains this text (case-insensitive). Default: none. */
  label?: string;
  /** `user` (front) or `environment` (back) camera, for phones and tablets. Default: none. */
  facingMode?: 'user' | 'environment' | 'left' | 'right';
  /** Ideal width in pixels. Default: the device's default (often 640). */
  width?: number;
  /** Ideal height in pixels. Default: the device's default (often 480). */
  height?: number;
  /** Ideal frame rate in frames per second. Default: the device's default. */
  frameRate?: number;
  /** Extra `MediaTrackConstraints`, merged over the ones above (e.g. `{ resizeMode: 'none' }`). */
  constraints?: MediaTrackConstraints;
  /** Queue settings. Default: `{ policy: 'latest', capacity: 1 }` (the newest frame wins; see {@link TrackSource}). */
  queue?: SourceQueueOptions;
  /**
   * Also open a microphone, in the same `getUserMedia` call (one permission prompt): `true` for the default one, or
   * its `MediaTrackConstraints` (e.g. `{ deviceId, echoCancellation: false }`). Its track is
   * {@link CameraSource.audioTrack}: `Room.publish()` sends it beside the video, a `Recorder` takes it as `audio`.
   * Default: false (video only).
   */
  audio?: boolean | MediaTrackConstraints;
}

/** One video input device as listed by {@link CameraSource.list}. */
export interface CameraDevice {
  /** Stable id to pass as `deviceId`. */
  deviceId: string;
  /** Human-readable name; empty until the page has camera permission. */
  label: string;
  /** Devices sharing a physical unit (camera + microphone) share this id. */
  groupId: string;
}

/** What {@link CameraSource.onDevicesChange} reports after a camera is plugged in or out. */
export interface CameraDevicesChange {
  /** Every video input device now. */
  devices: CameraDevice[];
  /** Devices that appeared since the previous report. */
  added: CameraDevice[];
  /** Devices that disappeared since the previous report. */
  removed: CameraDevice[];
}

/**
 * A camera as a frame source — vidgear's `CamGear(source=0).start()` in the browser.
 *
 * @example
 * ```ts
 * const camera = await Framewire.CameraSource.open({ width: 1280, height: 720 });
 * for await (const frame of camera) { ctx.drawImage(frame, 0, 0); frame.close(); }
 * ```
 */
export class CameraSource extends TrackSource {
  /**
   * The microphone's track (with `audio`), captured beside the video: play it, record it (`Recorder`'s `audio`) or
   * publish it with the video (`Room.publish()` does by default). `close()` stops it. `undefined` without `audio`.
   */
  readonly audioTrack: MediaStreamTrack | undefined;

  private constructor(
    track: MediaStreamTrack,
    audioTrack: MediaStreamTrack | undefined,
    queue: SourceQueueOptions | undefined,
  ) {
    super('camera', track, queue);
    this.audioTrack = audioTrack;
  }

  /**
   * Opens a camera (and, with `audio`, a microphone). Rejects with `FW_ERR_PERMISSION_DENIED`,
   * `FW_ERR_DEVICE_NOT_FOUND`, `FW_ERR_DEVICE_BUSY`, `FW_ERR_CONSTRAINTS_UNSATISFIABLE`, `FW_ERR_INVALID_OPTION`,
   * `FW_ERR_INSECURE_CONTEXT` (an http:// page not on localhost) or `FW_ERR_NOT_SUPPORTED`.
   */
  static async open(options: CameraSourceOptions = {}): Promise<CameraSource> {
    validate(options);
    assertSecureContext('CameraSource', 'capture');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined outside secure contexts
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new FramewireError(
        'FW_ERR_NOT_SUPPORTED',
        'getUserMedia is not available (the page must be https or localhost)',
        {
          fatal: true,
          stage: 'capture',
        },
      );
    }
    const video: MediaTrackConstraints = {};
    if (options.width !== undefined) video.width = { ideal: options.width };
    if (options.height !== undefined) video.height = { ideal: options.height };
    if (options.frameRate !== undefined) video.frameRate = { ideal: options.frameRate };
    if (options.facingMode !== undefined) video.facingMode = { ideal: options.facingMode };
    const deviceId = options.deviceId ?? (options.label !== undefined ? await findByLabel(options.label) : undefined);
    if (deviceId !== undefined) video.deviceId = { exact: deviceId };
    Object.assign(video, options.constraints);

    const audio = options.audio ?? false;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio });
    } catch (error) {
      throw mediaDeviceError(error, audio === false ? 'camera' : 'camera or microphone');
    }
    const [track] = stream.getVideoTracks();
    const [audioTrack] = stream.getAudioTracks();
    if (!track || (audio !== false && !audioTrack)) {
      for (const t of stream.getTracks()) t.stop();
      throw new FramewireError(
        'FW_ERR_DEVICE_NOT_FOUND',
        `The camera stream has no ${track ? 'audio' : 'video'} track`,
        {
          fatal: true,
        },
      );
    }
    try {
      return new CameraSource(track, audioTrack, options.queue);
    } catch (error) {
      audioTrack?.stop();
      throw error;
    }
  }

  /** Lists the video input devices. Labels are empty until the page has been granted camera access once. */
  static async list(): Promise<CameraDevice[]> {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined outside secure contexts
    if (!navigator.mediaDevices?.enumerateDevices) return [];
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices
      .filter((d) => d.kind === 'videoinput')
      .map(({ deviceId, label, groupId }) => ({ deviceId, label, groupId }));
  }

  /**
   * Calls `listener` each time a camera is plugged in or out (the browser's `devicechange` event), with the
   * devices now present and what was added or removed. Returns the unsubscribe function. A camera that is
   * unplugged while open also ends its source (`end` with reason `ended`).
   */
  static onDevicesChange(listener: (change: CameraDevicesChange) => void): () => void {
    const mediaDevices = navigator.mediaDevices as MediaDevices | undefined;
    if (!mediaDevices) return () => undefined;
    let known: Promise<CameraDevice[]> = CameraSource.list();
    let active = true;
    const onChange = (): void => {
      known = known.then(async (before) => {
        const devices = await CameraSource.list();
        const ids = (list: CameraDevice[]): Set<string> => new Set(list.map((d) => d.deviceId));
        const beforeIds = ids(before);
        const nowIds = ids(devices);
        const added = devices.filter((d) => !beforeIds.has(d.deviceId));
        const removed = before.filter((d) => !nowIds.has(d.deviceId));
        if (active && (added.length > 0 || removed.length > 0)) listener({ devices, added, removed });
        return devices;
      });
    };
    mediaDevices.addEventListener('devicechange', onChange);
    return () => {
      active = false;
      mediaDevices.removeEventListener('devicechange', onChange);
    };
  }

  /** Stops the microphone's track too. */
  protected override async release(): Promise<void> {
    this.audioTrack?.stop();
    await super.release();
  }
}

function validate(options: CameraSourceOptions): void {
  assertCaptureSize(options);
  assertOption(
    options.label === undefined || (typeof options.label === 'string' && options.label.length > 0),
    'options.label must be a non-empty string',
  );
  assertOption(
    options.deviceId === undefined || options.label === undefined,
    'options.deviceId and options.label are exclusive: give one',
  );
  assertOption(
    options.audio === undefined ||
      typeof options.audio === 'boolean' ||
      (typeof options.audio === 'object' && (options.audio as MediaTrackConstraints | null) !== null),
    'options.audio must be a boolean or MediaTrackConstraints',
  );
}

async function findByLabel(label: string): Promise<string> {
  let devices = await CameraSource.list();
  if (devices.every((d) => d.label === '')) {
    // Labels stay hidden until the user grants access once: ask, then list again.
    try {
      const probe = await navigator.mediaDevices.getUserMedia({ video: true });
      for (const track of probe.getTracks()) track.stop();
    } catch (error) {
      throw mediaDeviceError(error, 'camera');
    }
    devices = await CameraSource.list();
  }
  const wanted = label.toLowerCase();
  const match = devices.find((d) => d.label.toLowerCase().includes(wanted));
  if (!match) {
    throw new FramewireError('FW_ERR_DEVICE_NOT_FOUND', `No camera label contains "${label}"`, {
      fatal: true,
      stage: 'capture',
      details: { labels: devices.map((d) => d.label) },
    });
  }
  return match.deviceId;
}
