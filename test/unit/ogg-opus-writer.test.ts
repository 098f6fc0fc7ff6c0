// OggOpusWriter (packages/node-bridge/src/media/ogg-opus-writer.ts): Opus packets as Ogg pages, read back by the
// bridge's demuxer and by ffmpeg (which checks every page's CRC); and the worker pipes' PCM message.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { FramewireError } from '@framewire/core';
import { OggOpusDemuxer } from '../../packages/node-bridge/src/media/ogg-opus-demuxer.js';
import { OggOpusWriter } from '../../packages/node-bridge/src/media/ogg-opus-writer.js';
import { opusPcmDecoderArgs } from '../../packages/node-bridge/src/pipeline/opus-pcm-decoder.js';
import {
  IPC_KIND,
  IpcMessageReader,
  encodeIpcAccessUnitHeader,
  encodeIpcFrameHeader,
  encodeIpcPcmHeader,
  type IpcAccessUnit,
  type IpcFrame,
  type IpcPcm,
} from '../../packages/node-bridge/src/webrtc/webrtc-ipc.js';
import { celt20 } from '../helpers/ogg-pages.js';

/** Runs ffmpeg with `args`, `input` on stdin; resolves with its stdout, or rejects with its stderr. */
function ffmpeg(args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(err))));
    child.stdin.end(input);
  });
}

describe('OggOpusWriter', () => {
  it('writes a stream the demuxer reads back: the head, then each packet at its place', () => {
    const writer = new OggOpusWriter(2);
    const packets = [celt20(40), celt20(300), celt20(600)];
    const bytes = Buffer.concat([writer.header(), ...packets.map((p) => writer.page(p))]);
    const demuxer = new OggOpusDemuxer();
    const read = demuxer.push(bytes);
    assert.deepEqual(demuxer.head, { channels: 2, preSkip: 0 });
    assert.deepEqual(
      read.map((p) => [p.data.length, p.startSample, p.samples]),
      [
        [40, 0, 960],
        [300, 960, 960],
        [600, 1920, 960],
      ],
    );
    assert.deepEqual(read[1]?.data, packets[1], 'a packet longer than 255 bytes keeps its bytes');
  });

  it('ffmpeg decodes its pages (CRCs checked) to the PCM the packets hold', async () => {
    // Real Opus packets: ffmpeg's own encode of a 1 kHz tone, read back by the demuxer.
    const ogg = await ffmpeg(
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:duration=0.5'],
        ...['-c:a', 'libopus', '-ar', '48000', '-ac', '1', '-frame_duration', '20', '-f', 'ogg', 'pipe:1'],
      ],
      Buffer.alloc(0),
    );
    const packets = new OggOpusDemuxer().push(ogg);
    assert.ok(packets.length >= 20, `${packets.length} packets`);
    const writer = new OggOpusWriter(1);
    const rewritten = Buffer.concat([writer.header(), ...packets.map((p) => writer.page(p.data))]);
    const pcm = await ffmpeg(opusPcmDecoderArgs(), rewritten);
    const samples = packets.reduce((sum, p) => sum + p.samples, 0);
    // No pre-skip: every packet's samples come out (ffmpeg's Ogg demuxer keeps back at most the first packet).
    assert.ok(Math.abs(pcm.length / 2 - samples) <= 960, `${pcm.length / 2} samples of ${samples}`);
    let peak = 0;
    for (let i = 0; i < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
    assert.ok(peak > 3000, `the tone (amplitude 1/8 of full scale) is there: peak ${peak}`);
  });

  it('refuses a channel count other than 1 or 2, and an empty packet', () => {
    assert.throws(
      () => new OggOpusWriter(3),
      (error: unknown) => error instanceof FramewireError && error.code === 'FW_ERR_INVALID_OPTION',
    );
    assert.throws(() => new OggOpusWriter(1).page(new Uint8Array()), RangeError);
  });
});

describe('IpcMessageReader: binary messages', () => {
  it('round-trips a frame and an access unit, whose headers share the PCM message layout', () => {
    const pixels = Uint8Array.from({ length: 24 }, (_, i) => i);
    const annexB = Uint8Array.from([0, 0, 0, 1, 0x65, 9]);
    const bytes = Buffer.concat([
      encodeIpcFrameHeader({ id: 'cam', width: 4, height: 4, captureTimeMs: 10.5, data: pixels }),
      pixels,
      encodeIpcAccessUnitHeader({ id: 'cam2', key: true, timestampUs: 3000, captureTimeMs: 11.5, data: annexB }),
      annexB,
    ]);
    const frames: IpcFrame[] = [];
    const units: IpcAccessUnit[] = [];
    const reader = new IpcMessageReader(
      () => assert.fail('no JSON'),
      (frame) => frames.push({ ...frame, data: Uint8Array.from(frame.data) }),
      (unit) => units.push({ ...unit, data: Uint8Array.from(unit.data) }),
    );
    reader.push(bytes);
    assert.deepEqual(frames, [{ id: 'cam', width: 4, height: 4, captureTimeMs: 10.5, data: pixels }]);
    assert.deepEqual(units, [{ id: 'cam2', key: true, timestampUs: 3000, captureTimeMs: 11.5, data: annexB }]);
  });

  it('round-trips a chunk (split anywhere) beside a JSON message', () => {
    const samples = Int16Array.from({ length: 480 }, (_, i) => i * 64 - 15_000);
    const data = new Uint8Array(samples.buffer);
    const message = Buffer.concat([encodeIpcPcmHeader({ id: 'cam', captureTimeMs: 1234.5, data }), data]);
    assert.equal(message[4], IPC_KIND.pcm);
    const got: IpcPcm[] = [];
    const json: unknown[] = [];
    const reader = new IpcMessageReader(
      (m) => json.push(m),
      () => assert.fail('no frame'),
      () => assert.fail('no access unit'),
      (pcm) => got.push({ ...pcm, data: Uint8Array.from(pcm.data) }),
    );
    for (const byte of message) reader.push(Buffer.from([byte]));
    assert.deepEqual(json, []);
    assert.equal(got.length, 1);
    assert.deepEqual([got[0]?.id, got[0]?.captureTimeMs], ['cam', 1234.5]);
    assert.deepEqual(new Int16Array(Uint8Array.from(got[0]?.data ?? []).buffer), samples);
  });
});
