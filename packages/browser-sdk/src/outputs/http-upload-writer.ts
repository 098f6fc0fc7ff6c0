import { type FramewireError, assertOption } from '@framewire/core';
import { fetchWithRetry } from './fetch-with-retry.js';
import type { RecordingOutput, RecordingWriter, TargetChunk, UploadReceipt } from './recording-target.js';

/** Options of {@link HttpUploadWriter}. */
export interface HttpUploadOptions {
  /** Extra request headers (e.g. `authorization`). Default: none. */
  headers?: Record<string, string>;
  /** Bytes gathered before a request is sent (a completed fragment is sent at once). Default: 262144 (256 KiB). */
  chunkBytes?: number;
}

/**
 * Streams a recording to an HTTP endpoint while it is made, in POST requests a server can append in order:
 *
 * - every request carries `x-framewire-upload-id` (one id per recording) and `x-framewire-offset` (where its
 *   body goes in the file); bodies are `application/octet-stream`;
 * - the last request has an empty body and `x-framewire-final: <total bytes>`.
 *
 * Bytes go out at each completed fragment (or every `chunkBytes`), so an interrupted recording loses at most the
 * last fragment. Network errors and 5xx answers are retried with backoff; a 4xx answer, or retries used up, fail
 * with `FW_ERR_WRITE_FAILED`.
 */
export class HttpUploadWriter implements RecordingWriter {
  /** @inheritdoc */
  readonly writable: WritableStream<TargetChunk>;
  /** The id sent with every request. */
  readonly uploadId: string = crypto.randomUUID();
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #chunkBytes: number;
  #parts: Uint8Array[] = [];
  #partsStart = 0;
  #partsBytes = 0;
  #total = 0;
  #sending: Promise<void> = Promise.resolve();
  #failure: FramewireError | undefined;

  /** Prepares uploads to `url`; throws `FW_ERR_INVALID_OPTION` on bad options. Sends nothing yet. */
  constructor(url: string | URL, options: HttpUploadOptions = {}) {
    this.#url = new URL(String(url), location.href).href;
    this.#headers = options.headers ?? {};
    this.#chunkBytes = options.chunkBytes ?? 262_144;
    assertOption(
      Number.isInteger(this.#chunkBytes) && this.#chunkBytes > 0,
      'target.chunkBytes must be an integer > 0',
    );
    this.writable = new WritableStream<TargetChunk>({ write: (chunk) => this.#write(chunk) });
  }

  /** @inheritdoc */
  checkpoint(): void {
    this.#flush();
  }

  /** @inheritdoc */
  async finish(): Promise<RecordingOutput> {
    this.#flush();
    this.#enqueue(new Uint8Array(0), this.#total, { 'x-framewire-final': String(this.#total) });
    await this.#sending;
    if (this.#failure) throw this.#failure;
    const receipt: UploadReceipt = { url: this.#url, uploadId: this.uploadId, bytes: this.#total };
    return receipt;
  }

  /** @inheritdoc */
  async abort(): Promise<void> {
    this.#parts = [];
    await this.#sending.catch(() => undefined);
  }

  async #write(chunk: TargetChunk): Promise<void> {
    if (this.#failure) throw this.#failure;
    const data = chunk.data.slice();
    if (chunk.position !== this.#partsStart + this.#partsBytes) {
      // Not contiguous with what is gathered (a muxer patching a header): send it on its own.
      this.#flush();
      this.#enqueue(data, chunk.position, {});
    } else {
      this.#parts.push(data);
      this.#partsBytes += data.byteLength;
      if (this.#partsBytes >= this.#chunkBytes) this.#flush();
    }
    this.#total = Math.max(this.#total, chunk.position + data.byteLength);
    // Backpressure: at most one request waits behind the one in flight.
    await this.#sending;
  }

  #flush(): void {
    if (this.#partsBytes === 0) {
      this.#partsStart = this.#total;
      return;
    }
    const body = new Uint8Array(this.#partsBytes);
    let offset = 0;
    for (const part of this.#parts) {
      body.set(part, offset);
      offset += part.byteLength;
    }
    this.#enqueue(body, this.#partsStart, {});
    this.#parts = [];
    this.#partsStart += this.#partsBytes;
    this.#partsBytes = 0;
  }

  #enqueue(body: Uint8Array, offset: number, extra: Record<string, string>): void {
    this.#sending = this.#sending.then(() => this.#post(body, offset, extra));
    this.#sending.catch(() => undefined);
  }

  async #post(body: Uint8Array, offset: number, extra: Record<string, string>): Promise<void> {
    if (this.#failure) throw this.#failure;
    const init: RequestInit = {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: {
        ...this.#headers,
        ...extra,
        'content-type': 'application/octet-stream',
        'x-framewire-upload-id': this.uploadId,
        'x-framewire-offset': String(offset),
      },
    };
    try {
      await fetchWithRetry(
        this.#url,
        init,
        { initialDelayMs: 250, maxDelayMs: 4000, maxRetries: 5 },
        `Uploading to ${this.#url}`,
      );
    } catch (error) {
      this.#failure = error as FramewireError;
      throw error;
    }
  }
}
