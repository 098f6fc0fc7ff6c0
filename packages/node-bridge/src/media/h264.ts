/*
 * H.264 Annex B helpers of the bridge: the bitstream parsing lives in @framewire/core (shared with the browser SDK);
 * this module adds the JPEG size reader the bridge's MJPEG paths use.
 */
export {
  NAL_TYPES,
  findSps,
  h264FrameType,
  isKeyAccessUnit,
  nalType,
  parseSps,
  splitNalUnits,
  type SpsInfo,
} from '@framewire/core';

/** Width and height from a baseline or progressive JPEG's SOF marker; `undefined` when there is none. */
export function jpegSize(data: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < data.length) {
    if (data[i] !== 0xff) return undefined;
    const marker = data[i + 1] ?? 0;
    const length = ((data[i + 2] ?? 0) << 8) | (data[i + 3] ?? 0);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = ((data[i + 5] ?? 0) << 8) | (data[i + 6] ?? 0);
      const width = ((data[i + 7] ?? 0) << 8) | (data[i + 8] ?? 0);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    i += 2 + length;
  }
  return undefined;
}
