import { NAL_TYPES, nalType } from './h264.js';

/** One H.264 access unit found by {@link AnnexBSplitter}. */
export interface AccessUnit {
  /** The access unit in Annex B form (4-byte start codes). */
  data: Buffer;
  /** True when it holds an IDR slice. */
  key: boolean;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/**
 * Splits a raw H.264 Annex B byte stream (what `rpicam-vid --codec h264 -o -` writes) into access units.
 *
 * A NAL unit is complete only when the next start code arrives, so an access unit is normally emitted when the
 * next one begins. Writers that flush every frame (`rpicam-vid --flush`) can call `flush()` when their pipe goes
 * idle to emit the frame at once instead of one frame later. Units larger than `maxAccessUnitBytes` are dropped.
 */
export class AnnexBSplitter {
  readonly #maxAccessUnitBytes: number;
  #pending: Buffer = Buffer.alloc(0);
  #units: Buffer[] = [];
  #unitBytes = 0;
  #hasVcl = false;
  #key = false;
  #oversize = false;

  /** @param maxAccessUnitBytes the largest accepted access unit, in bytes (default 8 MiB). */
  constructor(maxAccessUnitBytes = 8 * 1024 * 1024) {
    this.#maxAccessUnitBytes = maxAccessUnitBytes;
  }

  /** Access units dropped for being larger than the limit. */
  oversizeDropped = 0;

  /** Feeds bytes; returns the access units they complete, in order. */
  push(chunk: Buffer): AccessUnit[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const units: AccessUnit[] = [];
    let first = this.#findStartCode(0);
    if (first < 0) {
      // No start code yet: keep at most a partial start code.
      this.#pending = this.#pending.subarray(Math.max(0, this.#pending.length - 3));
      return units;
    }
    for (;;) {
      const bodyStart = first + 3;
      const next = this.#findStartCode(bodyStart);
      if (next < 0) break;
      this.#nal(this.#pending.subarray(bodyStart, next), units);
      first = next;
    }
    this.#pending = this.#pending.subarray(first);
    if (this.#pending.length > this.#maxAccessUnitBytes) {
      // A NAL unit still arriving is already too large: the access unit it belongs to is dropped (and counted when
      // it ends), while the one before it, if this NAL unit begins a new one, is complete and emitted.
      this.#begin(this.#pending.subarray(3, 5), units);
      this.#oversize = true;
      this.#pending = Buffer.alloc(0);
    }
    return units;
  }

  /** Treats the bytes received so far as complete and returns the access unit they end (if any). */
  flush(): AccessUnit[] {
    const units: AccessUnit[] = [];
    const first = this.#findStartCode(0);
    if (first >= 0) this.#nal(this.#pending.subarray(first + 3), units);
    this.#pending = Buffer.alloc(0);
    if (this.#hasVcl) this.#emit(units);
    return units;
  }

  #findStartCode(from: number): number {
    const at = this.#pending.indexOf(START_CODE.subarray(1), from);
    return at;
  }

  #nal(raw: Buffer, out: AccessUnit[]): void {
    let end = raw.length;
    while (end > 0 && raw[end - 1] === 0) end--; // the zero byte of a following 4-byte start code
    const unit = raw.subarray(0, end);
    if (unit.length === 0) return;
    this.#begin(unit, out);
    this.#unitBytes += unit.length + 4;
    if (this.#unitBytes > this.#maxAccessUnitBytes) this.#oversize = true;
    if (!this.#oversize) this.#units.push(START_CODE, Buffer.from(unit));
  }

  /** Accounts for a NAL unit from its first bytes: emits the access unit it ends, notes a picture and a key frame. */
  #begin(unit: Buffer, out: AccessUnit[]): void {
    const type = nalType(unit);
    const vcl = type >= NAL_TYPES.slice && type <= NAL_TYPES.idr;
    const startsNew =
      this.#hasVcl &&
      (type === NAL_TYPES.aud ||
        type === NAL_TYPES.sps ||
        type === NAL_TYPES.pps ||
        type === NAL_TYPES.sei ||
        (vcl && ((unit[1] ?? 0) & 0x80) !== 0)); // first_mb_in_slice == 0 starts a new picture
    if (startsNew) this.#emit(out);
    if (vcl) this.#hasVcl = true;
    if (type === NAL_TYPES.idr) this.#key = true;
  }

  #emit(out: AccessUnit[]): void {
    if (this.#oversize) this.oversizeDropped++;
    else if (this.#units.length > 0) out.push({ data: Buffer.concat(this.#units), key: this.#key });
    this.#dropCurrent();
  }

  #dropCurrent(): void {
    this.#units = [];
    this.#unitBytes = 0;
    this.#hasVcl = false;
    this.#key = false;
    this.#oversize = false;
  }
}
