// The recordings directory after a killed bridge (packages/node-bridge/src/recording/recording-store.ts): files cut
// after a fragment are adopted as interrupted recordings; a file cut before its first fragment (a bare header, no
// frame) is removed instead of being listed as a recording no player can read.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hasMovieFragment } from '../../packages/node-bridge/src/recording/mp4-fragments.js';
import { recordingName } from '../../packages/node-bridge/src/recording/recording-names.js';
import { RecordingStore } from '../../packages/node-bridge/src/recording/recording-store.js';

/** An MP4 box: 32-bit size, four-letter type, `body` bytes. */
function box(type: string, body = 0): Buffer {
  const out = Buffer.alloc(8 + body);
  out.writeUInt32BE(8 + body, 0);
  out.write(type, 4, 'latin1');
  return out;
}

describe('recordings left by a killed bridge', () => {
  it('adopts a file with a movie fragment as interrupted and removes one cut before its first fragment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'framewire-store-'));
    try {
      const start = Date.UTC(2026, 11, 7, 22, 0, 0);
      const cutEarly = join(dir, recordingName('cam1', start));
      const cutLater = join(dir, recordingName('cam1', start + 60_000));
      // ftyp (28 bytes, as the recorder writes it first), then moov; the later one has a fragment (moof + mdat).
      writeFileSync(cutEarly, Buffer.concat([box('ftyp', 20)]));
      writeFileSync(cutLater, Buffer.concat([box('ftyp', 20), box('moov', 100), box('moof', 40), box('mdat', 500)]));
      assert.equal(hasMovieFragment(cutEarly), false);
      assert.equal(hasMovieFragment(cutLater), true);
      const store = new RecordingStore(dir);
      store.open();
      assert.deepEqual(
        store.finished.map((f) => [f.name, f.interrupted]),
        [[recordingName('cam1', start + 60_000), true]],
      );
      assert.equal(existsSync(cutEarly), false, 'the header-only file is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a 64-bit box size and stops at a torn box header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'framewire-store-'));
    try {
      const large = Buffer.alloc(16 + 8);
      large.writeUInt32BE(1, 0);
      large.write('mdat', 4, 'latin1');
      large.writeBigUInt64BE(24n, 8);
      const withLarge = join(dir, 'a.mp4');
      writeFileSync(withLarge, Buffer.concat([box('ftyp', 20), large, box('moof', 8)]));
      assert.equal(hasMovieFragment(withLarge), true);
      const torn = join(dir, 'b.mp4');
      const bad = box('ftyp', 20);
      bad.writeUInt32BE(3, 0);
      writeFileSync(torn, Buffer.concat([bad, box('moof', 8)]));
      assert.equal(hasMovieFragment(torn), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
