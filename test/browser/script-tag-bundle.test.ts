import { expect } from 'chai';

// The <script> bundle, loaded exactly as a page without a bundler loads it.
const BUNDLE = '/packages/browser-sdk/dist/framewire.min.js';

interface FramewireGlobal {
  VERSION: string;
  CameraSource: { open(options?: object): Promise<{ read(): Promise<VideoFrame | null>; close(): Promise<void> }> };
  loadHls(): Promise<{ isSupported(): boolean; version: string }>;
  loadDash(): Promise<{ MediaPlayer: () => { create(): unknown } }>;
  loadOpenCv(): Promise<{ cv: { Mat: new () => { delete(): void; rows: number } } }>;
  loadMediabunny(): Promise<{ ALL_FORMATS: unknown[] }>;
  FramewireError: new (...args: never[]) => Error;
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(script);
  });
}

describe('IIFE bundle (<script> tag)', () => {
  let Framewire: FramewireGlobal;

  before(async () => {
    await loadScript(BUNDLE);
    Framewire = (globalThis as unknown as { Framewire: FramewireGlobal }).Framewire;
  });

  it('IIFE bundle, defines the global Framewire with the package version', async () => {
    expect(Framewire).to.be.an('object');
    const pkg = (await (await fetch('/packages/browser-sdk/package.json')).json()) as { version: string };
    expect(Framewire.VERSION).to.equal(pkg.version);
  });

  it('IIFE bundle, opens the camera and reads frames', async () => {
    const camera = await Framewire.CameraSource.open({ width: 640, height: 480 });
    const frame = await camera.read();
    expect(frame?.displayWidth).to.equal(640);
    frame?.close();
    await camera.close();
  });

  it('IIFE bundle, lazy-loads hls.js, dash.js, mediabunny and OpenCV.js from files beside the bundle', async () => {
    const loaded = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
    expect(loaded().some((p) => p.includes('/vendor/'))).to.equal(false);

    const Hls = await Framewire.loadHls();
    expect(Hls.isSupported()).to.equal(true);
    expect(loaded()).to.include('/packages/browser-sdk/dist/vendor/hls.mjs');
    expect(await Framewire.loadHls(), 'loaded once').to.equal(Hls);

    const dash = await Framewire.loadDash();
    expect(dash.MediaPlayer().create()).to.be.an('object');
    expect(loaded()).to.include('/packages/browser-sdk/dist/vendor/dash.mjs');

    const mediabunny = await Framewire.loadMediabunny();
    expect(mediabunny.ALL_FORMATS.length).to.be.greaterThan(3);
    expect(loaded()).to.include('/packages/browser-sdk/dist/vendor/mediabunny.mjs');

    const { cv } = await Framewire.loadOpenCv();
    const mat = new cv.Mat();
    expect(mat.rows).to.equal(0);
    mat.delete();
    expect(loaded()).to.include('/packages/browser-sdk/dist/vendor/opencv.js');
  });
});
