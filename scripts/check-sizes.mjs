// Checks every budgeted bundle's gzip size against bundle-budgets.json, and that no lazily loaded vendor library
// (hls.js, dash.js, OpenCV.js, mediabunny, mqtt.js) was bundled into one of them.
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const budgets = JSON.parse(readFileSync('bundle-budgets.json', 'utf8'));
// Strings that only the vendor libraries contain.
const VENDOR_MARKERS = {
  'hls.js': 'hlsManifestLoaded',
  'dash.js': 'streamInitialized',
  'OpenCV.js': 'matFromImageData',
  mediabunny: 'Mediabunny Codec Registry',
  'mqtt.js': 'pingreq',
};
let failed = false;
for (const [file, budget] of Object.entries(budgets)) {
  if (file.startsWith('//')) continue;
  if (!existsSync(file)) {
    console.error(`✖ ${file} is missing (run npm run build)`);
    failed = true;
    continue;
  }
  const source = readFileSync(file);
  const size = gzipSync(source, { level: 9 }).length;
  const ok = size <= budget;
  console.log(`${ok ? '✔' : '✖'} ${file}: ${size} B gzip (budget ${budget} B, ${((size / budget) * 100).toFixed(0)}%)`);
  failed ||= !ok;
  for (const [library, marker] of Object.entries(VENDOR_MARKERS)) {
    if (source.includes(marker)) {
      console.error(`✖ ${file} contains ${library}: it must be loaded lazily, not bundled`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
