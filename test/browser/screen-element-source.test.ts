import { expect } from 'chai';
import {
  CameraSource,
  ElementSource,
  type FramewireError,
  ScreenSource,
  openSource,
  type CameraDevicesChange,
  type FrameSource,
} from '@framewire/browser-sdk';
import { rejection, until, within } from '../helpers/browser.js';
import { mediaUrl, startTestServer } from '../helpers/media.js';

describe('ScreenSource, ElementSource, openSource and camera hot-plug', () => {
  const opened: FrameSource[] = [];
  const keep = <S extends FrameSource>(source: S): S => {
    opened.push(source);
    return source;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('ScreenSource, captures the auto-accepted screen', async () => {
    const screen = keep(await ScreenSource.open({ frameRate: 10 }));
    const frame = await within(screen.read(), 60_000, 'a screen frame');
    expect(frame!.displayWidth).to.be.greaterThan(0);
    expect(screen.kind).to.equal('screen');
    frame?.close();
  });

  it('ScreenSource, region crops every frame (ScreenGear top/left/width/height), odd edges rounded to even', async () => {
    const screen = keep(await ScreenSource.open({ region: { x: 11, y: 20, width: 201, height: 100 } }));
    for (let i = 0; i < 3; i++) {
      const frame = await within(screen.read(), 60_000, 'a cropped frame');
      expect([frame!.displayWidth, frame!.displayHeight]).to.deep.equal([200, 100]);
      expect(frame!.visibleRect?.x).to.equal(10);
      frame?.close();
    }
    expect(screen.region).to.deep.equal({ x: 11, y: 20, width: 201, height: 100 });
  });

  it('ScreenSource, the user stopping the share ends the source cleanly', async () => {
    const screen = keep(await ScreenSource.open({ cursor: 'never' }));
    const ended = new Promise<string>((resolve) => screen.on('end', ({ reason }) => resolve(reason)));
    (await screen.read())?.close();
    screen.track.stop();
    for (let f = await within(screen.read(), 60_000, 'drain'); f; f = await screen.read()) f.close();
    expect(await within(ended, 60_000, 'end')).to.equal('ended');
  });

  it('ScreenSource, refusals and bad options map to typed errors', async () => {
    const original = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
    try {
      const refusal = new DOMException('denied', 'NotAllowedError');
      navigator.mediaDevices.getDisplayMedia = () => Promise.reject(refusal);
      const denied = (await rejection(() => ScreenSource.open())) as FramewireError;
      expect([denied.code, denied.cause]).to.deep.equal(['FW_ERR_PERMISSION_DENIED', refusal]);
    } finally {
      navigator.mediaDevices.getDisplayMedia = original;
    }
    const cases: [Parameters<typeof ScreenSource.open>[0], string][] = [
      [{ region: { x: -1, y: 0, width: 10, height: 10 } }, 'options.region.x'],
      [{ region: { x: 0, y: 0, width: 1, height: 10 } }, 'options.region.width'],
      [{ cursor: 'sometimes' as 'always' }, 'options.cursor'],
      [{ region: { x: 5000, y: 0, width: 10, height: 10 } }, 'options.region starts outside'],
    ];
    for (const [options, named] of cases) {
      const error = (await rejection(() => ScreenSource.open(options))) as FramewireError;
      expect(error.code).to.equal('FW_ERR_INVALID_OPTION');
      expect(error.message).to.contain(named);
    }
  });

  it('ElementSource, samples a canvas at its frame rate with increasing timestamps', async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    canvas.getContext('2d')!.fillRect(0, 0, 64, 48);
    const source = keep(new ElementSource(canvas, { frameRate: 50, maxFrames: 5 }));
    const timestamps: number[] = [];
    for (let f = await source.read(); f; f = await source.read()) {
      expect([f.displayWidth, f.displayHeight]).to.deep.equal([64, 48]);
      timestamps.push(f.timestamp);
      f.close();
    }
    expect(timestamps).to.have.length.within(4, 5);
    for (let i = 1; i < timestamps.length; i++) expect(timestamps[i]).to.be.greaterThan(timestamps[i - 1]!);
  });

  it('ElementSource, a playing video gives its frames with media-time stamps and ends with it', async () => {
    const video = document.createElement('video');
    video.muted = true;
    video.src = mediaUrl('h264.mp4');
    // A quarter speed: a player on a busy machine skips presenting frames that are late, and this source gives
    // the frames presented.
    video.playbackRate = 0.25;
    await video.play();
    const source = keep(new ElementSource(video, { queue: { capacity: 8, policy: 'backpressure' } }));
    const timestamps: number[] = [];
    for (
      let f = await within(source.read(), 60_000, 'video frame');
      f;
      f = await within(source.read(), 60_000, 'video frame')
    ) {
      expect(f.displayWidth).to.equal(320);
      timestamps.push(f.timestamp);
      f.close();
    }
    expect(timestamps.length).to.be.greaterThan(10);
    expect(timestamps.at(-1)).to.be.at.most(1_000_000);
  });

  it('ElementSource, a cross-origin video without CORS cannot be read: FW_ERR_PERMISSION_DENIED', async () => {
    const server = await startTestServer('static');
    try {
      const video = document.createElement('video');
      video.muted = true;
      video.src = `${server.url}/media/h264-faststart.mp4`; // no crossOrigin attribute: the pixels are tainted
      await video.play();
      const source = keep(new ElementSource(video));
      const failed = new Promise<FramewireError>((resolve) => source.on('error', ({ error }) => resolve(error)));
      const error = await within(failed, 60_000, 'the refusal');
      expect([error.code, error.fatal]).to.deep.equal(['FW_ERR_PERMISSION_DENIED', true]);
      expect(await source.read()).to.equal(null);
      video.pause();
    } finally {
      await server.stop();
    }
  });

  it('ElementSource, an image, and bad elements', async () => {
    const image = new Image();
    image.src =
      'data:image/svg+xml,' +
      encodeURIComponent(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>',
      );
    await image.decode();
    const source = keep(new ElementSource(image, { maxFrames: 2 }));
    const frame = await source.read();
    expect([frame?.displayWidth, frame?.displayHeight]).to.deep.equal([40, 30]);
    frame?.close();
    const error = (() => {
      try {
        new ElementSource(document.createElement('div') as unknown as HTMLCanvasElement);
      } catch (e) {
        return e as FramewireError;
      }
      return undefined;
    })();
    expect(error?.code).to.equal('FW_ERR_INVALID_OPTION');
  });

  it('openSource, one entry for every kind, with or without stabilization; bad stabilizer options are refused', async () => {
    const camera = keep(await openSource({ camera: { width: 320, height: 240 } }));
    expect(camera.kind).to.equal('camera');
    const frame = await camera.read();
    expect(frame?.displayWidth).to.equal(320);
    frame?.close();
    await camera.close();
    const file = keep(await openSource({ file: mediaUrl('h264.mp4'), options: { loop: false } }));
    expect(file.kind).to.equal('file');
    const canvas = new OffscreenCanvas(16, 16);
    canvas.getContext('2d')!.fillRect(0, 0, 16, 16);
    expect(keep(await openSource({ element: canvas })).kind).to.equal('element');
    const screen = keep(await openSource({ screen: true }));
    expect(screen.kind).to.equal('screen');

    const steady = keep(await openSource({ camera: { width: 320, height: 240 }, stabilize: { smoothingRadius: 5 } }));
    expect(steady.kind).to.equal('camera');
    for (let i = 0; i < 3; i++) {
      const stabilized = await steady.read();
      expect(stabilized?.displayWidth).to.equal(320);
      stabilized?.close();
    }
    await steady.close();
    const badStabilizer = (await rejection(() =>
      openSource({ camera: {}, stabilize: { smoothingRadius: -1 } }),
    )) as FramewireError;
    expect(badStabilizer.code).to.equal('FW_ERR_INVALID_OPTION');
    expect(badStabilizer.message).to.contain('smoothingRadius');
    const two = (await rejection(() => openSource({ camera: {}, screen: {} }))) as FramewireError;
    expect(two.code).to.equal('FW_ERR_INVALID_OPTION');
    const none = (await rejection(() => openSource({} as never))) as FramewireError;
    expect(none.code).to.equal('FW_ERR_INVALID_OPTION');
  });

  it('openSource, stabilize wraps the source in the stabilizer (VideoGear stabilize=True)', async () => {
    const steady = keep(await openSource({ camera: { width: 320, height: 240 }, stabilize: { smoothingRadius: 5 } }));
    expect(steady.kind).to.equal('camera');
    for (let i = 0; i < 8; i++) {
      const frame = await within(steady.read(), 60_000, `stabilized frame ${i}`);
      expect([frame?.displayWidth, frame?.displayHeight]).to.deep.equal([320, 240]);
      frame?.close();
    }
    expect(steady.constructor.name).to.equal('StabilizedSource');
  });

  it('CameraSource, onDevicesChange reports a camera plugged in and out', async () => {
    const real = await CameraSource.list();
    const original = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
    const plugged = { deviceId: 'usb-cam', kind: 'videoinput', label: 'USB camera', groupId: 'g' } as MediaDeviceInfo;
    let devices = await original();
    let listed = 0;
    navigator.mediaDevices.enumerateDevices = () => {
      listed++;
      return Promise.resolve(devices);
    };
    const changes: CameraDevicesChange[] = [];
    const off = CameraSource.onDevicesChange((change) => changes.push(change));
    try {
      // The devices known before the change: the first list, taken when subscribing.
      await until(() => listed >= 1, 'the initial device list');
      devices = [...devices, plugged];
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      await until(() => changes.length >= 1, 'the plug-in report');
      devices = devices.filter((d) => d !== plugged);
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      await until(() => changes.length >= 2, 'the unplug report');
    } finally {
      off();
      navigator.mediaDevices.enumerateDevices = original;
    }
    expect(changes[0]!.added.map((d) => d.deviceId)).to.deep.equal(['usb-cam']);
    expect(changes[0]!.devices).to.have.length(real.length + 1);
    expect(changes[1]!.removed.map((d) => d.label)).to.deep.equal(['USB camera']);
    navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes, 'unsubscribed').to.have.length(2);
  });
});
