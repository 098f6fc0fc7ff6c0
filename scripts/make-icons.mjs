// Draws the demo's PWA icons (a play triangle on a blue rounded square) and writes them as PNG with Node
// built-ins only: `node scripts/make-icons.mjs`. The PNGs are committed; run this again after changing the design.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** RGBA pixel of the icon at (x, y) in a size×size square; `maskable` fills the whole square (safe zone). */
function pixel(x, y, size, maskable) {
  const u = (x + 0.5) / size;
  const v = (y + 0.5) / size;
  const r = maskable ? 0 : 0.18;
  const dx = Math.max(r - u, 0, u - (1 - r));
  const dy = Math.max(r - v, 0, v - (1 - r));
  if (dx * dx + dy * dy > r * r) return [0, 0, 0, 0];
  // A play triangle, scaled to the maskable safe zone.
  const s = maskable ? 0.6 : 0.8;
  const tu = (u - 0.5) / s + 0.5;
  const tv = (v - 0.5) / s + 0.5;
  const inTriangle = tu > 0.33 && tu < 0.75 && Math.abs(tv - 0.5) < (0.75 - tu) * 0.6;
  return inTriangle ? [255, 255, 255, 255] : [23, 105, 224, 255];
}

function png(size, maskable) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) raw.set(pixel(x, y, size, maskable), y * (size * 4 + 1) + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
]) {
  writeFileSync(new URL(`../demo/icons/${name}`, import.meta.url), png(size, maskable));
}
