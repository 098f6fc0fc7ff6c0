// How fast can a worker move a 1280×720 frame by a similarity transform (what the Stabilizer does to every
// frame after measuring its motion)? Three ways, in one dedicated worker of the bench's Chromium (software
// rendering here: --disable-gpu, no GPU on this machine kind), on the same I420 frames (what a software
// VideoDecoder gives), each output read back to memory as an encoder would:
// - 2D canvas: `setTransform` + `drawImage(frame)` on an OffscreenCanvas, `new VideoFrame(canvas)` (the
//   Stabilizer's FrameWarper today);
// - WebGL2: the frame uploaded as a texture (`texImage2D(frame)`), one quad drawn with the inverse transform in
//   the fragment shader, `new VideoFrame(canvas)`; reported as unavailable when the browser gives no WebGL2
//   context (Chromium gives none with --disable-gpu unless SwiftShader is allowed);
// - OpenCV.js (the baseline): `frame.copyTo()` as RGBA, `cv.warpAffine` (bilinear, black border), a VideoFrame
//   from the result.
// The paths alternate frame by frame, so a load change on the shared machine hits all of them alike.
// Environment: WARP_FRAMES=n frames per path and repeat (default 40).
import { loadavg } from 'node:os';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = Number(process.env.WARP_FRAMES ?? 40);

export const name = `Warping a ${WIDTH}×${HEIGHT} frame in a worker: 2D canvas and WebGL2 vs OpenCV.js warpAffine`;

/** The worker's code: measures each path on the same frames and posts fps per path. */
function workerMain() {
  self.onmessage = ({ data }) =>
    measurePaths(data).then(
      (result) => self.postMessage(result),
      (error) => self.postMessage({ error: String(error?.stack ?? error) }),
    );
  async function measurePaths({ width, height, frames, openCvUrl }) {
    const module = await import(openCvUrl);
    // Wrapped: the OpenCV.js module is a thenable that resolves to itself, which an await would chase forever.
    const { cv } = await new Promise((resolve) => {
      const m = module.default;
      if (m instanceof Promise) m.then((cv) => resolve({ cv }));
      else if (m.Mat) resolve({ cv: m });
      else m.onRuntimeInitialized = () => resolve({ cv: m });
    });
    // A textured I420 picture (gradients and a checkerboard), as a decoder would give.
    const i420 = new Uint8Array((width * height * 3) / 2);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        i420[y * width + x] = (((x >> 4) + (y >> 4)) & 1 ? 200 : 40) + ((x * 13 + y * 7) % 40);
    for (let i = width * height; i < i420.length; i++) i420[i] = 64 + (i % 128);
    const input = (t) =>
      new VideoFrame(i420, { format: 'I420', codedWidth: width, codedHeight: height, timestamp: t * 33_333 });
    const readBack = new Uint8Array(width * height * 4);
    const consume = async (frame) => {
      await frame.copyTo(readBack);
      frame.close();
    };
    // A shaky-camera correction: a few pixels and a fraction of a degree.
    const correction = (t) => ({ x: 6 * Math.sin(t), y: 4 * Math.cos(1.3 * t), angle: 0.01 * Math.sin(0.7 * t) });
    // Output pixel → input pixel, as a 2×3 matrix (the inverse of: centre, translate, rotate, uncentre).
    const inverse = ({ x, y, angle }) => {
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const [cx, cy] = [width / 2, height / 2];
      // forward: p' = R (p − c) + c + t ⇒ p = Rᵀ (p' − c − t) + c
      const tx = -(c * (cx + x) + s * (cy + y)) + cx;
      const ty = -(-s * (cx + x) + c * (cy + y)) + cy;
      return [c, s, tx, -s, c, ty];
    };

    const canvas2d = new OffscreenCanvas(width, height).getContext('2d', { alpha: false });
    canvas2d.imageSmoothingEnabled = true;
    canvas2d.imageSmoothingQuality = 'low';
    const warp2d = (frame, k) => {
      canvas2d.setTransform(1, 0, 0, 1, 0, 0);
      canvas2d.fillStyle = '#000';
      canvas2d.fillRect(0, 0, width, height);
      canvas2d.translate(width / 2 + k.x, height / 2 + k.y);
      canvas2d.rotate(k.angle);
      canvas2d.translate(-width / 2, -height / 2);
      canvas2d.drawImage(frame, 0, 0, width, height);
      return new VideoFrame(canvas2d.canvas, { timestamp: frame.timestamp, alpha: 'discard' });
    };

    const glCanvas = new OffscreenCanvas(width, height);
    const gl = glCanvas.getContext('webgl2', { alpha: false, antialias: false, preserveDrawingBuffer: false });
    let warpGl;
    if (gl) {
      const shader = (type, source) => {
        const s = gl.createShader(type);
        gl.shaderSource(s, source);
        gl.compileShader(s);
        return s;
      };
      const program = gl.createProgram();
      gl.attachShader(
        program,
        shader(
          gl.VERTEX_SHADER,
          `#version 300 es
        in vec2 p; out vec2 px; uniform vec2 size;
        void main() { px = (p * vec2(0.5, -0.5) + 0.5) * size; gl_Position = vec4(p, 0.0, 1.0); }`,
        ),
      );
      gl.attachShader(
        program,
        shader(
          gl.FRAGMENT_SHADER,
          `#version 300 es
        precision highp float; in vec2 px; out vec4 colour; uniform sampler2D image; uniform vec2 size;
        uniform mat3x2 m;
        void main() {
          vec2 q = m * vec3(px, 1.0);
          colour = (any(lessThan(q, vec2(0.0))) || any(greaterThan(q, size))) ? vec4(0, 0, 0, 1)
            : texture(image, q / size);
        }`,
        ),
      );
      gl.linkProgram(program);
      gl.useProgram(program);
      gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
      const p = gl.getAttribLocation(program, 'p');
      gl.enableVertexAttribArray(p);
      gl.vertexAttribPointer(p, 2, gl.FLOAT, false, 0, 0);
      gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      gl.uniform2f(gl.getUniformLocation(program, 'size'), width, height);
      const m = gl.getUniformLocation(program, 'm');
      gl.viewport(0, 0, width, height);
      warpGl = (frame, k) => {
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, frame);
        const [a, b, c, d, e, f] = inverse(k);
        // Column-major mat3x2: columns (a, d), (b, e), (c, f).
        gl.uniformMatrix3x2fv(m, false, [a, d, b, e, c, f]);
        gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
        return new VideoFrame(glCanvas, { timestamp: frame.timestamp, alpha: 'discard' });
      };
    }

    const src = new cv.Mat(height, width, cv.CV_8UC4);
    const dst = new cv.Mat(height, width, cv.CV_8UC4);
    const dsize = new cv.Size(width, height);
    const black = new cv.Scalar(0, 0, 0, 255);
    const warpCv = async (frame, k) => {
      await frame.copyTo(src.data, { format: 'RGBA' });
      const matrix = cv.matFromArray(2, 3, cv.CV_64F, inverse(k));
      cv.warpAffine(src, dst, matrix, dsize, cv.INTER_LINEAR | cv.WARP_INVERSE_MAP, cv.BORDER_CONSTANT, black);
      matrix.delete();
      return new VideoFrame(dst.data, {
        format: 'RGBA',
        codedWidth: width,
        codedHeight: height,
        timestamp: frame.timestamp,
      });
    };

    const renderer = (context) => {
      const info = context.getExtension('WEBGL_debug_renderer_info');
      return String(context.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : context.RENDERER));
    };
    const paths = { canvas2d: warp2d, webgl2: warpGl, opencv: warpCv };
    const spent = { canvas2d: 0, webgl2: 0, opencv: 0 };
    for (let t = 0; t < frames + 3; t++) {
      for (const [path, warp] of Object.entries(paths)) {
        if (!warp) continue;
        const frame = input(t);
        const start = performance.now();
        const out = await warp(frame, correction(t));
        await consume(out);
        // The first frames warm up each path (shader compile, allocations).
        if (t >= 3) spent[path] += performance.now() - start;
        frame.close();
      }
    }
    src.delete();
    dst.delete();
    const fps = (ms) => (ms > 0 ? (frames * 1000) / ms : null);
    return {
      canvas2d: fps(spent.canvas2d),
      webgl2: warpGl ? fps(spent.webgl2) : null,
      webgl2Renderer: gl ? renderer(gl) : 'no WebGL2 context',
      opencv: fps(spent.opencv),
    };
  }
}

async function measure(page) {
  return page.evaluate(
    async ({ code, width, height, frames }) => {
      const url = URL.createObjectURL(new Blob([`(${code})()`], { type: 'text/javascript' }));
      const worker = new Worker(url, { type: 'module' });
      try {
        return await new Promise((resolve, reject) => {
          worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage({
            width,
            height,
            frames,
            openCvUrl: new URL('/sdk/vendor/opencv.js', location.href).href,
          });
        });
      } finally {
        worker.terminate();
        URL.revokeObjectURL(url);
      }
    },
    { code: workerMain.toString(), width: WIDTH, height: HEIGHT, frames: FRAMES },
  );
}

export async function run({ page, repeats }) {
  const runs = [];
  const loads = [loadavg()[0]];
  for (let i = 0; i < repeats; i++) {
    runs.push(await measure(page));
    loads.push(loadavg()[0]);
  }
  const rows = [
    {
      name: `${name}: 2D canvas`,
      unit: 'fps',
      ours: runs.map((r) => r.canvas2d),
      baseline: runs.map((r) => r.opencv),
      oursLabel: '2D canvas setTransform + drawImage',
      baselineLabel: 'OpenCV.js warpAffine',
    },
  ];
  if (runs.every((r) => r.webgl2 !== null)) {
    rows.push({
      name: `${name}: WebGL2`,
      unit: 'fps',
      ours: runs.map((r) => r.webgl2),
      baseline: runs.map((r) => r.opencv),
      oursLabel: 'WebGL2 texture + quad',
      baselineLabel: 'OpenCV.js warpAffine',
    });
  }
  const notes = [
    `WebGL2 renderer: ${runs[0]?.webgl2Renderer}.`,
    `Per run (fps, ${FRAMES} frames per path, output read back): ` +
      runs
        .map((r) => `2D ${r.canvas2d.toFixed(1)}, WebGL2 ${r.webgl2?.toFixed(1) ?? '–'}, OpenCV ${r.opencv.toFixed(1)}`)
        .join('; ') +
      '.',
    `Load average (1 min) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (2 cores).`,
  ];
  return { rows, notes };
}
