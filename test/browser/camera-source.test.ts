import { expect } from 'chai';
import { CameraSource, FramewireError, getCaptureTime, type CameraSourceOptions } from '@framewire/browser-sdk';
import { rejection, sleep, within } from '../helpers/browser.js';

describe('CameraSource', () => {
  // A camera left open with frames queued would stall the (shared) fake camera for every later test.
  const opened: CameraSource[] = [];
  const openCamera = async (options?: CameraSourceOptions): Promise<CameraSource> => {
    const camera = await CameraSource.open(options);
    opened.push(camera);
    return camera;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((camera) => camera.close()));
  });

  it('CameraSource, reads 30 frames of the requested size, in order, with capture stamps', async () => {
    const before = Date.now();
    const camera = await openCamera({ width: 1280, height: 720 });
    const timestamps: number[] = [];
    const stamps: number[] = [];
    for (let i = 0; i < 30; i++) {
      const frame = await within(camera.read(), 60_000, `frame ${i}`);
      expect(frame, `frame ${i}`).to.not.equal(null);
      if (!frame) break;
      expect([frame.displayWidth, frame.displayHeight]).to.deep.equal([1280, 720]);
      timestamps.push(frame.timestamp);
      stamps.push(getCaptureTime(frame) ?? Number.NaN);
      frame.close();
    }
    expect(timestamps).to.have.length(30);
    for (let i = 1; i < timestamps.length; i++) {
      expect(timestamps[i], 'timestamps strictly increase').to.be.greaterThan(timestamps[i - 1]!);
      expect(stamps[i], 'capture stamps never go back').to.be.at.least(stamps[i - 1]!);
    }
    expect(stamps[0]).to.be.within(before, Date.now());
    expect(camera.stats.framesDelivered).to.equal(30);
    expect(camera.kind).to.equal('camera');
    await camera.close();
  });

  it('CameraSource, a slow consumer gets fresh frames and capture never stalls', async () => {
    // Chromium captures into a tiny buffer pool shared by every track of the device: a frame the source kept
    // (queued or dropped without close) would stop capture for good.
    const camera = await openCamera({ width: 640, height: 480, frameRate: 30 });
    try {
      for (let i = 0; i < 5; i++) {
        (await camera.read())?.close();
        await sleep(300);
      }
      expect(camera.stats.framesQueued, 'no stale frames pile up').to.be.at.most(1);
      (await camera.read())?.close(); // the frame queued while we slept
      // Capture goes on (a frame kept back would have stalled the camera's pool for good), with new frames only.
      // How fast it runs is bench/camera-capture.bench.mjs's business.
      let last = -Infinity;
      for (let i = 0; i < 20; i++) {
        const frame = await within(camera.read(), 60_000, 'capture continues');
        expect(frame!.timestamp, 'a newer frame each time').to.be.greaterThan(last);
        last = frame!.timestamp;
        expect(camera.stats.framesQueued, 'no stale frames pile up').to.be.at.most(1);
        frame?.close();
      }
    } finally {
      await camera.close();
    }
  });

  it('CameraSource, close() is idempotent, ends reads with null and stops the track', async () => {
    const camera = await openCamera();
    const ends: string[] = [];
    camera.on('end', ({ reason }) => ends.push(reason));
    (await camera.read())?.close();
    const pending = camera.read();
    await Promise.all([camera.close(), camera.close()]);
    const last = await pending;
    last?.close();
    expect(await camera.read()).to.equal(null);
    expect(camera.ended).to.equal(true);
    expect(camera.track.readyState).to.equal('ended');
    expect(ends).to.deep.equal(['closed']);
  });

  it('CameraSource, async iteration and readable stream; breaking out closes the source', async () => {
    const camera = await openCamera({ width: 320, height: 240 });
    let n = 0;
    for await (const frame of camera) {
      frame.close();
      if (++n === 5) break;
    }
    expect(n).to.equal(5);
    expect(camera.ended).to.equal(true);

    const second = await openCamera({ width: 320, height: 240 });
    const reader = second.readable.getReader();
    for (let i = 0; i < 3; i++) {
      const { value } = await reader.read();
      expect(value?.displayWidth).to.equal(320);
      value?.close();
    }
    await reader.cancel();
    expect(second.ended, 'cancelling the stream closes the source').to.equal(true);
  });

  it('CameraSource, a track that ends (device unplugged) ends the source cleanly', async () => {
    const camera = await openCamera();
    const ended = new Promise<string>((resolve) => camera.on('end', ({ reason }) => resolve(reason)));
    (await camera.read())?.close();
    camera.track.stop();
    let frame: VideoFrame | null;
    while ((frame = await within(camera.read(), 60_000, 'read after the track ended'))) frame.close();
    expect(await within(ended, 60_000, 'end event')).to.equal('ended');
    await camera.close();
  });

  it('CameraSource, list() returns the fake camera with a label after permission', async () => {
    const camera = await openCamera();
    await camera.close();
    const devices = await CameraSource.list();
    expect(devices.length).to.be.greaterThan(0);
    expect(devices[0]!.label).to.be.a('string').and.not.equal('');
    const byLabel = await openCamera({ label: devices[0]!.label.slice(0, 4) });
    expect(byLabel.settings.deviceId).to.equal(devices[0]!.deviceId);
    await byLabel.close();
  });

  it('CameraSource, bad input fails with a typed error and opens nothing', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => openCamera({ width: -1 }), 'FW_ERR_INVALID_OPTION'],
      [() => openCamera({ frameRate: Number.NaN }), 'FW_ERR_INVALID_OPTION'],
      [() => openCamera({ deviceId: 'x', label: 'y' }), 'FW_ERR_INVALID_OPTION'],
      [() => openCamera({ label: 'no camera has this label' }), 'FW_ERR_DEVICE_NOT_FOUND'],
      [() => openCamera({ deviceId: 'no-such-device' }), 'FW_ERR_CONSTRAINTS_UNSATISFIABLE'],
    ];
    for (const [open, code] of cases) {
      const error = await rejection(open);
      expect(error).to.be.instanceOf(FramewireError);
      expect((error as FramewireError).code).to.equal(code);
      expect((error as FramewireError).fatal).to.equal(true);
    }
  });

  it('CameraSource, browser refusals map to stable codes with the DOMException as cause', async () => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    const refusals: [string, string][] = [
      ['NotAllowedError', 'FW_ERR_PERMISSION_DENIED'],
      ['NotReadableError', 'FW_ERR_DEVICE_BUSY'],
      ['NotFoundError', 'FW_ERR_DEVICE_NOT_FOUND'],
    ];
    try {
      for (const [name, code] of refusals) {
        const refusal = new DOMException(`simulated ${name}`, name);
        navigator.mediaDevices.getUserMedia = () => Promise.reject(refusal);
        const error = (await rejection(() => openCamera())) as FramewireError;
        expect(error.code).to.equal(code);
        expect(error.cause).to.equal(refusal);
        expect(error.stage).to.equal('capture');
      }
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
  });

  it('CameraSource, without MediaStreamTrackProcessor it fails with FW_ERR_NOT_SUPPORTED and releases the camera', async () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'MediaStreamTrackProcessor');
    let stream: MediaStream | undefined;
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => (stream = await original(constraints));
    Object.defineProperty(globalThis, 'MediaStreamTrackProcessor', { value: undefined, configurable: true });
    try {
      const error = (await rejection(() => openCamera())) as FramewireError;
      expect(error.code).to.equal('FW_ERR_NOT_SUPPORTED');
      expect(stream?.getVideoTracks()[0]?.readyState, 'the camera was released').to.equal('ended');
    } finally {
      if (descriptor) Object.defineProperty(globalThis, 'MediaStreamTrackProcessor', descriptor);
      navigator.mediaDevices.getUserMedia = original;
    }
  });
});
