import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * `frames` frames of ffmpeg's 640×360 `testsrc2` pattern at 30 fps, encoded with `outputArgs` (codec options, format
 * and `pipe:1`), as the bytes ffmpeg writes to stdout.
 */
export async function encodeTestPattern(frames: number, outputArgs: readonly string[]): Promise<Buffer> {
  const input = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30'];
  const { stdout } = await promisify(execFile)('ffmpeg', [...input, '-frames:v', String(frames), ...outputArgs], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}
