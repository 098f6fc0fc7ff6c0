/*
 * H.264 Annex B bitstream helpers, shared by the bridge and the browser SDK: NAL unit splitting, keyframe checks,
 * SPS parsing (display size and WebCodecs codec string).
 */

/** NAL unit types framewire cares about. */
export const NAL_TYPES = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

/** Splits an Annex B buffer into NAL units (without their start codes). Bytes before the first start code are dropped. */
export function splitNalUnits(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) units.push(trimTrailingZeros(data.subarray(start, i)));
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < data.length) units.push(data.subarray(start));
  return units.filter((unit) => unit.length > 0);
}

function trimTrailingZeros(unit: Uint8Array): Uint8Array {
  let end = unit.length;
  while (end > 0 && unit[end - 1] === 0) end--;
  return unit.subarray(0, end);
}

/** The type (low 5 bits of the header byte) of a NAL unit without start code. */
export function nalType(unit: Uint8Array): number {
  return (unit[0] ?? 0) & 0x1f;
}

/** True when an Annex B access unit holds an IDR slice (a decoder can start there). */
export function isKeyAccessUnit(data: Uint8Array): boolean {
  return splitNalUnits(data).some((unit) => nalType(unit) === NAL_TYPES.idr);
}

/** The picture type of an access unit: `I` (intra, IDR or not), `P` (predicted) or `B` (bi-predicted). */
export type H264FrameType = 'I' | 'P' | 'B';

/**
 * The picture type of an Annex B access unit, from the `slice_type` of its first slice header (SI counts as `I`,
 * SP as `P`); `undefined` when it holds no slice or the header is unreadable. Reads only the first slice's first
 * bytes: cheap enough for every frame.
 */
export function h264FrameType(data: Uint8Array): H264FrameType | undefined {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    const header = data[i + 3] ?? 0;
    const type = header & 0x1f;
    if (type !== NAL_TYPES.slice && type !== NAL_TYPES.idr) {
      i += 2;
      continue;
    }
    try {
      // first_mb_in_slice and slice_type are two exp-Golomb codes: 16 bytes hold them whatever their values.
      const bits = new BitReader(unescapeRbsp(data.subarray(i + 4, i + 20)));
      bits.ue(); // first_mb_in_slice
      const sliceType = bits.ue() % 5;
      return (['P', 'B', 'I', 'P', 'I'] as const)[sliceType];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** What the SPS of a stream says. */
export interface SpsInfo {
  /** WebCodecs codec string, e.g. `avc1.64001f`. */
  codec: string;
  /** Display width in pixels (after cropping). */
  width: number;
  /** Display height in pixels (after cropping). */
  height: number;
}

/** The first SPS NAL unit (header byte included) of an Annex B buffer; `undefined` when there is none. */
export function findSpsUnit(data: Uint8Array): Uint8Array | undefined {
  return splitNalUnits(data).find((unit) => nalType(unit) === NAL_TYPES.sps);
}

/** The first SPS of an Annex B buffer, parsed; `undefined` when there is none or it is malformed. */
export function findSps(data: Uint8Array): SpsInfo | undefined {
  const sps = findSpsUnit(data);
  return sps ? parseSps(sps) : undefined;
}

/**
 * The WebCodecs codec string `avc1.PPCCLL` (profile, constraint flags, level) of an SPS NAL unit (header byte
 * included), from its first three bytes alone; `undefined` when it is shorter or not an SPS.
 */
export function avcCodecOfSps(unit: Uint8Array): string | undefined {
  if (unit.length < 4 || nalType(unit) !== NAL_TYPES.sps) return undefined;
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(unit[1] ?? 0)}${hex(unit[2] ?? 0)}${hex(unit[3] ?? 0)}`;
}

/** Parses an SPS NAL unit (header byte included); `undefined` when it is malformed. */
export function parseSps(unit: Uint8Array): SpsInfo | undefined {
  const codec = avcCodecOfSps(unit);
  if (codec === undefined) return undefined;
  try {
    const bits = new BitReader(unescapeRbsp(unit.subarray(1)));
    const profileIdc = bits.bits(8);
    bits.bits(16); // constraint flags, level_idc
    bits.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profileIdc)) {
      chromaFormatIdc = bits.ue();
      if (chromaFormatIdc === 3) bits.bits(1);
      bits.ue(); // bit_depth_luma_minus8
      bits.ue(); // bit_depth_chroma_minus8
      bits.bits(1); // qpprime_y_zero_transform_bypass_flag
      if (bits.bits(1)) {
        for (let i = 0; i < (chromaFormatIdc === 3 ? 12 : 8); i++) {
          if (!bits.bits(1)) continue;
          let last = 8;
          let next = 8;
          for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
            next = (last + bits.se() + 256) % 256;
            if (next !== 0) last = next;
          }
        }
      }
    }
    bits.ue(); // log2_max_frame_num_minus4
    const pocType = bits.ue();
    if (pocType === 0) bits.ue();
    else if (pocType === 1) {
      bits.bits(1);
      bits.se();
      bits.se();
      const cycle = bits.ue();
      for (let i = 0; i < cycle; i++) bits.se();
    }
    bits.ue(); // max_num_ref_frames
    bits.bits(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = bits.ue() + 1;
    const heightMapUnits = bits.ue() + 1;
    const frameMbsOnly = bits.bits(1);
    if (!frameMbsOnly) bits.bits(1);
    bits.bits(1); // direct_8x8_inference_flag
    let [cropLeft, cropRight, cropTop, cropBottom] = [0, 0, 0, 0];
    if (bits.bits(1)) [cropLeft, cropRight, cropTop, cropBottom] = [bits.ue(), bits.ue(), bits.ue(), bits.ue()];
    const subWidth = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subHeight = chromaFormatIdc === 1 ? 2 : 1;
    const cropUnitX = chromaFormatIdc === 0 ? 1 : subWidth;
    const cropUnitY = (chromaFormatIdc === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - (cropLeft + cropRight) * cropUnitX;
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - (cropTop + cropBottom) * cropUnitY;
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return undefined;
    return { codec, width, height };
  } catch {
    return undefined;
  }
}

/** Removes emulation-prevention bytes (00 00 03 → 00 00). */
function unescapeRbsp(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let length = 0;
  let zeros = 0;
  for (const byte of data) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

class BitReader {
  readonly #data: Uint8Array;
  #bit = 0;
  constructor(data: Uint8Array) {
    this.#data = data;
  }
  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.#data[this.#bit >> 3];
      if (byte === undefined) throw new RangeError('SPS truncated');
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) if (++zeros > 31) throw new RangeError('bad exp-Golomb code');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const value = this.ue();
    return value % 2 === 1 ? (value + 1) / 2 : -value / 2;
  }
}
