/** What a CMAF init segment (`ftyp` + `moov`) says about its track. */
export interface InitInfo {
  /** Ticks per second (`mdhd`). */
  timescale: number;
  /**
   * The sample entry's codec as an RFC 6381 string when it can be read from the boxes (`avc1.64001f` from `avcC`,
   * `vp09.00.21.08` from `vpcC`, `av01.0.04M.08` from `av1C`, `Opus`), else `null`.
   */
  codec: string | null;
}

/** What a CMAF media segment (`moof` + `mdat`, one or more) says about its samples. */
export interface SegmentInfo {
  /** `tfdt` baseMediaDecodeTime of the first fragment, in the track's timescale. */
  startTicks: number;
  /** Sum of every sample's duration, in the track's timescale. */
  durationTicks: number;
  /** Number of samples. */
  samples: number;
  /** Whether the first sample is a sync sample (a key frame). */
  startsWithSync: boolean;
}

interface Box {
  type: string;
  start: number;
  end: number;
  body: number;
}

function boxes(view: DataView, from: number, to: number): Box[] {
  const found: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(
      view.getUint8(at + 4),
      view.getUint8(at + 5),
      view.getUint8(at + 6),
      view.getUint8(at + 7),
    );
    let body = at + 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      body += 8;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < 8 || at + size > to) break;
    found.push({ type, start: at, end: at + size, body });
    at += size;
  }
  return found;
}

function child(view: DataView, parent: Box | undefined, type: string, skip = 0): Box | undefined {
  if (!parent) return undefined;
  return boxes(view, parent.body + skip, parent.end).find((b) => b.type === type);
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');
const dec = (n: number): string => String(n).padStart(2, '0');

/** Reads the timescale and codec of a one-track CMAF init segment. Throws on bytes that are not one. */
export function readInit(bytes: Uint8Array): InitInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const moov = boxes(view, 0, bytes.byteLength).find((b) => b.type === 'moov');
  const trak = child(view, moov, 'trak');
  const mdia = child(view, trak, 'mdia');
  const mdhd = child(view, mdia, 'mdhd');
  if (!mdhd) throw new Error('not a CMAF init segment: no moov/trak/mdia/mdhd');
  const version = view.getUint8(mdhd.body);
  const timescale = view.getUint32(mdhd.body + (version === 1 ? 20 : 12));
  const stsd = child(view, child(view, child(view, mdia, 'minf'), 'stbl'), 'stsd');
  let codec: string | null = null;
  const entry = stsd ? boxes(view, stsd.body + 8, stsd.end)[0] : undefined;
  // VisualSampleEntry: 78 bytes before its child boxes.
  const config = (type: string): ((i: number) => number) | undefined => {
    const box = entry ? boxes(view, entry.body + 78, entry.end).find((b) => b.type === type) : undefined;
    return box ? (i: number): number => view.getUint8(box.body + i) : undefined;
  };
  if (entry?.type === 'avc1' || entry?.type === 'avc3') {
    const b = config('avcC');
    if (b) codec = `${entry.type}.${hex(b(1))}${hex(b(2))}${hex(b(3))}`;
  } else if (entry?.type === 'vp09') {
    // vpcC (a FullBox): profile, level, bitDepth (4 bits) | chroma subsampling | full range. vp09.PP.LL.DD.
    const b = config('vpcC');
    if (b) codec = `vp09.${dec(b(4))}.${dec(b(5))}.${dec(b(6) >> 4)}`;
  } else if (entry?.type === 'av01') {
    // av1C: seq_profile (3 bits) | seq_level_idx_0 (5), then seq_tier_0, high_bitdepth, twelve_bit. av01.P.LLT.DD.
    const b = config('av1C');
    if (b) {
      const profile = b(1) >> 5;
      const high = (b(2) >> 6) & 1;
      const depth = profile === 2 && high ? ((b(2) >> 5) & 1 ? 12 : 10) : high ? 10 : 8;
      codec = `av01.${profile}.${dec(b(1) & 0x1f)}${b(2) >> 7 ? 'H' : 'M'}.${dec(depth)}`;
    }
  } else if (entry?.type === 'Opus') {
    // Opus in ISOBMFF: the codecs parameter is the sample entry's four-character code.
    codec = 'Opus';
  }
  return { timescale, codec };
}

/** Reads the start time, duration and samples of a CMAF media segment. Throws on bytes without a `moof`. */
export function readSegment(bytes: Uint8Array): SegmentInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const moofs = boxes(view, 0, bytes.byteLength).filter((b) => b.type === 'moof');
  if (moofs.length === 0) throw new Error('not a CMAF media segment: no moof');
  let startTicks: number | undefined;
  let durationTicks = 0;
  let samples = 0;
  let startsWithSync = false;
  for (const moof of moofs) {
    const traf = child(view, moof, 'traf');
    const tfhd = child(view, traf, 'tfhd');
    const tfdt = child(view, traf, 'tfdt');
    if (!traf || !tfhd) continue;
    if (tfdt && startTicks === undefined) {
      startTicks =
        view.getUint8(tfdt.body) === 1 ? Number(view.getBigUint64(tfdt.body + 4)) : view.getUint32(tfdt.body + 4);
    }
    const tfhdFlags = view.getUint32(tfhd.body) & 0xffffff;
    let at = tfhd.body + 8;
    if (tfhdFlags & 0x1) at += 8;
    if (tfhdFlags & 0x2) at += 4;
    const defaultDuration = tfhdFlags & 0x8 ? view.getUint32(at) : 0;
    if (tfhdFlags & 0x8) at += 4;
    if (tfhdFlags & 0x10) at += 4;
    const defaultFlags = tfhdFlags & 0x20 ? view.getUint32(at) : 0;
    for (const trun of boxes(view, traf.body, traf.end).filter((b) => b.type === 'trun')) {
      const flags = view.getUint32(trun.body) & 0xffffff;
      const count = view.getUint32(trun.body + 4);
      let p = trun.body + 8;
      if (flags & 0x1) p += 4;
      let firstFlags: number | undefined;
      if (flags & 0x4) {
        firstFlags = view.getUint32(p);
        p += 4;
      }
      for (let i = 0; i < count; i++) {
        let duration = defaultDuration;
        let sampleFlags = i === 0 && firstFlags !== undefined ? firstFlags : defaultFlags;
        if (flags & 0x100) {
          duration = view.getUint32(p);
          p += 4;
        }
        if (flags & 0x200) p += 4;
        if (flags & 0x400) {
          sampleFlags = view.getUint32(p);
          p += 4;
        }
        if (flags & 0x800) p += 4;
        if (samples === 0) startsWithSync = (sampleFlags & 0x10000) === 0;
        durationTicks += duration;
        samples++;
      }
    }
  }
  return { startTicks: startTicks ?? 0, durationTicks, samples, startsWithSync };
}
