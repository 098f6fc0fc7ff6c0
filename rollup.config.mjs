// One build for the whole repository: `npm run build` (rollup -c). `npm run build -- --package bridge` builds one
// package (see PACKAGES below); `npm run build:watch` rebuilds on change.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const pkg = (dir) => JSON.parse(readFileSync(new URL(`${dir}/package.json`, import.meta.url), 'utf8'));
const version = pkg('.').version;
const define = { __FRAMEWIRE_VERSION__: JSON.stringify(version) };
const ts = (options = {}) => esbuild({ target: 'es2022', define, tsconfig: 'tsconfig.base.json', ...options });
// Workspace packages resolve to their TypeScript sources while building (the `source` export condition).
const resolve = (options = {}) =>
  nodeResolve({ exportConditions: ['source'], extensions: ['.ts', '.js', '.mjs'], ...options });
const dependenciesOf = (dir) => Object.keys(pkg(dir).dependencies ?? {});
// Workspace packages (@framewire/core) are bundled in, so every published package stands alone.
const externalFor = (dir) => {
  const deps = dependenciesOf(dir).filter((d) => !d.startsWith('@framewire/'));
  return (id) =>
    id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`));
};
const quiet = (warning, warn) => {
  // Top-level `this` in third-party UMD code is expected and harmless.
  if (warning.code === 'THIS_IS_UNDEFINED') return;
  warn(warning);
};

// ── @framewire/core ───────────────────────────────────────────────────────────────────────────────────────────
const core = [
  {
    input: {
      index: 'packages/core/src/index.ts',
      node: 'packages/core/src/node/index.ts',
      'bridge-protocol': 'packages/core/src/bridge-protocol.ts',
    },
    output: { dir: 'packages/core/dist', format: 'esm', sourcemap: true },
    external: externalFor('packages/core'),
    plugins: [resolve(), ts()],
  },
  {
    input: {
      index: 'packages/core/src/index.ts',
      node: 'packages/core/src/node/index.ts',
      'bridge-protocol': 'packages/core/src/bridge-protocol.ts',
    },
    output: { dir: 'packages/core/dist', format: 'esm' },
    external: externalFor('packages/core'),
    plugins: [dts({ tsconfig: 'packages/core/src/node/tsconfig.json' })],
  },
];

// ── @framewire/browser-sdk ────────────────────────────────────────────────────────────────────────────────────
const sdk = 'packages/browser-sdk';
// The heavy optional libraries live beside the bundle in dist/vendor/ and load only when a feature needs them.
const VENDOR = {
  'hls.js': { file: 'vendor/hls.mjs', from: 'node_modules/hls.js/dist/hls.min.mjs' },
  dashjs: { file: 'vendor/dash.mjs', from: 'node_modules/dashjs/dist/modern/esm/dash.all.min.js' },
  mediabunny: { file: 'vendor/mediabunny.mjs', from: 'node_modules/mediabunny/dist/bundles/mediabunny.min.mjs' },
  mqtt: { file: 'vendor/mqtt.mjs', from: 'node_modules/mqtt/dist/mqtt.esm.js' },
};

/** Copies the vendor files, and wraps OpenCV.js's UMD build as an ES module with a default export. */
function vendorFiles() {
  return {
    name: 'framewire-vendor-files',
    generateBundle() {
      for (const { file, from } of Object.values(VENDOR)) {
        this.emitFile({ type: 'asset', fileName: file, source: readFileSync(from) });
      }
      const opencv = readFileSync('node_modules/@techstark/opencv-js/dist/opencv.js', 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'vendor/opencv.js',
        source: `// OpenCV.js ${pkg('node_modules/@techstark/opencv-js').version} (Apache-2.0), as an ES module.\nconst module = { exports: {} };\nconst exports = module.exports;\n${opencv}\nexport default module.exports;\n`,
      });
    },
  };
}

/**
 * In the `<script>` bundle there is no bundler to resolve `import('hls.js')`: point such imports at the vendor
 * files beside the bundle, resolved against the bundle's own URL.
 */
function vendorDynamicImports() {
  return {
    name: 'framewire-vendor-imports',
    resolveDynamicImport(specifier) {
      if (typeof specifier === 'string' && VENDOR[specifier]) return { id: specifier, external: true };
      return null;
    },
    renderDynamicImport({ targetModuleId }) {
      // `output.paths` has already turned the specifier into the vendor file's relative path.
      if (!targetModuleId || !VENDOR[targetModuleId]) return null;
      return { left: 'import(new URL(', right: ', __framewireBase).href)' };
    },
  };
}

/**
 * An app's bundler (Vite, webpack 5) builds the SDK's workers again, from dist/workers/. The stabilizer worker
 * imports OpenCV.js from a URL known only at run time; the minifier drops the comments that tell bundlers to
 * leave such an `import()` alone, so they are put back on every dynamic import of the worker files.
 */
function bundlerIgnoredImports() {
  return {
    name: 'framewire-bundler-ignored-imports',
    renderChunk(code) {
      return {
        code: code.replace(/(?<![\w$.])import\((?!\/\*)/g, 'import(/* webpackIgnore: true */ /* @vite-ignore */ '),
        map: null,
      };
    },
  };
}

const sdkExternal = externalFor(sdk);
const browserSdk = [
  {
    // ESM for bundlers: dependencies stay external, hls.js/dash.js stay dynamic imports (code-split by the app).
    input: { index: `${sdk}/src/index.ts` },
    output: { dir: `${sdk}/dist`, format: 'esm', sourcemap: true },
    external: sdkExternal,
    plugins: [resolve({ browser: true }), ts(), vendorFiles()],
  },
  {
    // `network` is also a subpath of its own (src/peers/index.ts: rooms, peer links and the signaling client;
    // isomorphic: Node peers import it with wrtc injected). A separate build, so that index.js stays one file (no shared chunk) and its size budget means what it says.
    input: { network: `${sdk}/src/peers/index.ts` },
    output: { dir: `${sdk}/dist`, format: 'esm', sourcemap: true },
    external: sdkExternal,
    plugins: [resolve({ browser: true }), ts()],
  },
  {
    input: { index: `${sdk}/src/index.ts`, network: `${sdk}/src/peers/index.ts` },
    output: { dir: `${sdk}/dist`, format: 'esm', chunkFileNames: 'types-[hash].d.ts' },
    external: sdkExternal,
    plugins: [dts({ tsconfig: `${sdk}/tsconfig.json`, respectExternal: true })],
  },
  {
    // The <script> bundle: global `Framewire`, everything inlined but the lazily loaded vendor files.
    input: `${sdk}/src/index.ts`,
    output: {
      file: `${sdk}/dist/framewire.min.js`,
      format: 'iife',
      name: 'Framewire',
      sourcemap: true,
      banner: `/*! framewire ${version} | Apache-2.0 */`,
      paths: (id) => VENDOR[id]?.file ?? id,
      intro:
        "var __framewireBase = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) || (typeof location !== 'undefined' ? location.href : '');",
    },
    onwarn: quiet,
    plugins: [vendorDynamicImports(), resolve({ browser: true }), ts({ minify: true })],
  },
  {
    // Each worker is its own self-contained file.
    input: {
      'encoder.worker': `${sdk}/src/workers/encoder.worker.ts`,
      'stabilizer.worker': `${sdk}/src/workers/stabilizer.worker.ts`,
      'mjpeg.worker': `${sdk}/src/workers/mjpeg.worker.ts`,
      'opfs-writer.worker': `${sdk}/src/workers/opfs-writer.worker.ts`,
    },
    output: { dir: `${sdk}/dist/workers`, format: 'esm', sourcemap: true, entryFileNames: '[name].js' },
    plugins: [resolve({ browser: true }), ts({ minify: true }), bundlerIgnoredImports()],
  },
];

// ── Node packages ─────────────────────────────────────────────────────────────────────────────────────────────
const nodePackage = (dir, inputs, typed) => [
  {
    // An input is a file name in src/, or [output name, path in src/] for an entry in a subfolder.
    input: Object.fromEntries(
      inputs.map((input) =>
        Array.isArray(input) ? [input[0], `${dir}/src/${input[1]}.ts`] : [input, `${dir}/src/${input}.ts`],
      ),
    ),
    output: { dir: `${dir}/dist`, format: 'esm', sourcemap: true },
    external: externalFor(dir),
    plugins: [resolve({ preferBuiltins: true }), ts({ target: 'node20' })],
  },
  {
    input: Object.fromEntries(typed.map((name) => [name, `${dir}/src/${name}.ts`])),
    output: { dir: `${dir}/dist`, format: 'esm' },
    external: externalFor(dir),
    plugins: [dts({ tsconfig: `${dir}/tsconfig.json`, respectExternal: true })],
  },
];

/**
 * mediabunny's module build reaches a Node-only file that its "browser" field maps away, a mapping this resolver
 * does not apply through "exports"; its self-contained ES bundle is the same code without that file.
 */
function mediabunnyBundle() {
  return {
    name: 'framewire-mediabunny-bundle',
    resolveId: (id) => (id === 'mediabunny' ? 'node_modules/mediabunny/dist/bundles/mediabunny.min.mjs' : null),
  };
}

// ── demo ──────────────────────────────────────────────────────────────────────────────────────────────────────
/** Lists every file of the demo build in `shell-files.json`, for the Service Worker's offline shell. */
function shellFileList() {
  return {
    name: 'framewire-shell-file-list',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((file) => !file.endsWith('.map'));
      this.emitFile({ type: 'asset', fileName: 'shell-files.json', source: JSON.stringify(files.sort(), null, 2) });
    },
  };
}

const demo = [
  {
    // The demo uses the SDK through its public, built entry (default export condition, not the sources).
    // Each page is an entry; the SDK is one shared chunk; features load their code on first use.
    input: { main: 'demo/src/main.ts', kiosk: 'demo/src/kiosk.ts' },
    output: {
      dir: 'demo/dist',
      format: 'esm',
      sourcemap: true,
      chunkFileNames: 'chunks/[name].js',
      // The peer layer (the SDK's network entry) is its own chunk: only the room page loads it.
      manualChunks: (id) =>
        id.includes('/packages/browser-sdk/dist/network')
          ? 'sdk-network'
          : id.includes('/packages/browser-sdk/dist/')
            ? 'sdk'
            : undefined,
    },
    onwarn: quiet,
    plugins: [mediabunnyBundle(), nodeResolve({ browser: true }), ts({ minify: true }), shellFileList()],
  },
  {
    // The Service Worker is a classic script at the demo's root, so its scope is the whole demo.
    input: 'demo/sw/service-worker.ts',
    output: { file: 'demo/service-worker.js', format: 'iife', sourcemap: true },
    plugins: [resolve(), ts({ minify: true, tsconfig: 'demo/sw/tsconfig.json' })],
  },
];

const nodeBridge = nodePackage(
  'packages/node-bridge',
  // The WebRTC workers run as child processes of the bridge (webrtc-output.ts starts dist/webrtc-worker.js,
  // bridge-room-peer.ts dist/room-peer-worker.js).
  [
    'index',
    'protocol',
    'cli',
    ['webrtc-worker', 'webrtc/webrtc-worker'],
    ['room-peer-worker', 'peers/room-peer-worker'],
  ],
  ['index', 'protocol'],
);
const signaling = nodePackage('packages/signaling', ['index', 'protocol', 'cli'], ['index', 'protocol']);

// ── selection: `--package <name>[,<name>…]` or FRAMEWIRE_PACKAGE ──────────────────────────────────────────────
/**
 * Every package the build knows, in build order, with the names `--package` accepts. The packages build from
 * sources (workspace imports resolve to `src/` through the `source` condition), so each one builds alone, except
 * the demo: it imports the SDK's built entry, so `packages/browser-sdk/dist` must exist first.
 */
const PACKAGES = [
  { name: 'core', aliases: ['packages/core'], configs: core },
  { name: 'browser-sdk', aliases: ['sdk', 'packages/browser-sdk'], configs: browserSdk },
  { name: 'node-bridge', aliases: ['bridge', 'packages/node-bridge'], configs: nodeBridge },
  { name: 'signaling', aliases: ['packages/signaling'], configs: signaling },
  { name: 'demo', aliases: [], configs: demo, needs: { file: `${sdk}/dist/index.js`, package: 'sdk' } },
];

/** The packages named by `requested` (comma-separated names, aliases or folders), in build order. */
function selectPackages(requested) {
  const names = requested
    .split(',')
    .map((name) => name.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  const unknown = names.filter((name) => !PACKAGES.some((p) => p.name === name || p.aliases.includes(name)));
  if (names.length === 0 || unknown.length > 0) {
    const valid = PACKAGES.map((p) => [p.name, ...p.aliases].join(' | ')).join('\n  ');
    throw new Error(
      `${names.length === 0 ? 'no package named' : `unknown package ${unknown.map((n) => `"${n}"`).join(', ')}`}: --package takes one or more (comma-separated) of\n  ${valid}`,
    );
  }
  const selected = PACKAGES.filter((p) => names.includes(p.name) || p.aliases.some((a) => names.includes(a)));
  for (const p of selected) {
    if (p.needs && !existsSync(p.needs.file) && !selected.some((other) => other.name === 'browser-sdk')) {
      throw new Error(
        `${p.name} is built from ${p.needs.file}, which does not exist yet: build it first ` +
          `(npm run build -- --package ${p.needs.package}) or both at once (--package ${p.needs.package},${p.name})`,
      );
    }
  }
  return selected;
}

/** Rollup calls this with its command line; `--package` is ours, so it is removed before rollup reads the rest. */
export default function config(commandLineOptions = {}) {
  const requested = commandLineOptions.package ?? commandLineOptions.configPackage ?? process.env.FRAMEWIRE_PACKAGE;
  delete commandLineOptions.package;
  delete commandLineOptions.configPackage;
  if (requested === undefined) return PACKAGES.flatMap((p) => p.configs);
  try {
    return selectPackages(requested === true ? '' : String(requested)).flatMap((p) => p.configs);
  } catch (error) {
    // A usage error, not a crash: the message alone, without rollup's stack trace.
    console.error(`rollup.config.mjs: ${error.message}`);
    process.exit(1);
  }
}
