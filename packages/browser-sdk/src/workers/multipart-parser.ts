/**
 * Splits a `multipart/x-mixed-replace` (MJPEG over HTTP) body into its parts, as bytes arrive in any chunking.
 *
 * A part's length comes from its `Content-Length` header when present, otherwise from the next boundary.
 */
export class MultipartParser {
  readonly #delimiter: Uint8Array;
  #buffer = new Uint8Array(0);

  /** @param boundary the `boundary` parameter of the response's content type (without the leading `--`). */
  constructor(boundary: string) {
    this.#delimiter = new TextEncoder().encode(`--${boundary}`);
  }

  /** Bytes buffered and not yet returned as a part. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Adds received bytes; returns the bodies of the parts they completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    const parts: Uint8Array[] = [];
    for (;;) {
      const part = this.#next();
      if (!part) break;
      parts.push(part);
    }
    return parts;
  }

  #next(): Uint8Array | undefined {
    const buffer = this.#buffer;
    const start = indexOf(buffer, this.#delimiter, 0);
    if (start < 0) {
      // Keep only what could be the start of a delimiter split across chunks.
      if (buffer.length > this.#delimiter.length) this.#buffer = buffer.slice(buffer.length - this.#delimiter.length);
      return undefined;
    }
    const headerEnd = indexOf(buffer, CRLFCRLF, start);
    if (headerEnd < 0) return undefined;
    const headers = new TextDecoder().decode(buffer.subarray(start + this.#delimiter.length, headerEnd));
    const bodyStart = headerEnd + CRLFCRLF.length;
    const lengthMatch = /content-length:\s*(\d+)/i.exec(headers);
    let bodyEnd: number;
    if (lengthMatch) {
      bodyEnd = bodyStart + Number(lengthMatch[1]);
      if (buffer.length < bodyEnd) return undefined;
    } else {
      const next = indexOf(buffer, this.#delimiter, bodyStart);
      if (next < 0) return undefined;
      bodyEnd = next;
      // The CRLF before a delimiter belongs to the delimiter.
      if (bodyEnd >= 2 && buffer[bodyEnd - 2] === 13 && buffer[bodyEnd - 1] === 10) bodyEnd -= 2;
    }
    const body = buffer.slice(bodyStart, bodyEnd);
    this.#buffer = buffer.slice(bodyEnd);
    return body;
  }
}

const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (
    let i = haystack.indexOf(first ?? 0, from);
    i >= 0 && i <= haystack.length - needle.length;
    i = haystack.indexOf(first ?? 0, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
