import { FramewireError, assertOption } from '@framewire/core';
import { fetchWithRetry } from '../fetch-with-retry.js';
import { ReconnectBackoff, type ReconnectBackoffOptions } from '../../core/reconnect-backoff.js';
import type { PackageWriter } from './package-writer.js';

/**
 * Where one file of a package goes: the URL to send `method` to for `path` (relative to the package root, e.g.
 * `v0/seg-12.m4s`). It may be async, e.g. to fetch a presigned URL of an S3-compatible store from your server.
 */
export type OriginUrlFunction = (path: string, method: 'PUT' | 'DELETE') => string | URL | Promise<string | URL>;

/** An HTTP origin a {@link Packager} publishes to with `PUT` (and `DELETE` for live segments out of the window). */
export interface OriginUploadTarget {
  /**
   * The base URL (each file goes to `upload` + `/` + path), or a function giving each file's URL (presigned URLs).
   * Required.
   */
  upload: string | URL | OriginUrlFunction;
  /** Headers sent with every request, e.g. `{ Authorization: 'Bearer …' }` checked by the origin. Default: none. */
  headers?: Record<string, string>;
  /**
   * Retries of a request that failed on the network or with HTTP 5xx, with exponential backoff (a 4xx answer is
   * not retried). Default: `{ initialDelayMs: 100, maxDelayMs: 1000, maxRetries: 3 }`.
   */
  retry?: ReconnectBackoffOptions;
}

const DEFAULT_RETRY: ReconnectBackoffOptions = { initialDelayMs: 100, maxDelayMs: 1000, maxRetries: 3 };

/** Checks an upload target's fields; throws `FW_ERR_INVALID_OPTION` naming the bad one. */
export function validateOriginUploadTarget(target: OriginUploadTarget): void {
  const { upload, headers, retry } = target;
  assertOption(
    typeof upload === 'string' || upload instanceof URL || typeof upload === 'function',
    'options.target.upload must be a URL or a function (path, method) => URL',
  );
  assertOption(
    headers === undefined || Object.values(headers).every((v) => typeof v === 'string'),
    'options.target.headers must map header names to strings',
  );
  // Checks the delays and the retry count (FW_ERR_INVALID_OPTION) now rather than at the first failed request.
  new ReconnectBackoff({ ...DEFAULT_RETRY, ...retry });
}

/**
 * A writer that publishes every file to an HTTP origin: `PUT` with the file's MIME type and `headers`, `DELETE` for
 * removed files. Network failures and 5xx answers are retried with backoff; a 4xx answer, retries used up, or a URL
 * function that throws reject with `FW_ERR_WRITE_FAILED` (`details`: `path`, `method`, `url`, `status`).
 * Removals that fail are ignored (the origin keeps a file no manifest lists).
 */
export function originUploadWriter(target: OriginUploadTarget): PackageWriter {
  const { upload, headers = {} } = target;
  const retry = { ...DEFAULT_RETRY, ...target.retry };
  const root = typeof upload === 'function' ? '' : new URL(String(upload), location.href).href.replace(/\/?$/, '/');
  const urlOf = async (path: string, method: 'PUT' | 'DELETE'): Promise<string> => {
    if (typeof upload !== 'function') return new URL(path, root).href;
    try {
      return new URL(String(await upload(path, method)), location.href).href;
    } catch (error) {
      throw new FramewireError('FW_ERR_WRITE_FAILED', `No URL for ${method} ${path}: ${String(error)}`, {
        cause: error,
        fatal: true,
        stage: 'write',
        details: { path, method },
      });
    }
  };
  const send = async (method: 'PUT' | 'DELETE', path: string, body?: Uint8Array | string, type?: string) => {
    const url = await urlOf(path, method);
    const init: RequestInit = {
      method,
      headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
      ...(body === undefined ? {} : { body: body as BodyInit }),
    };
    await fetchWithRetry(url, init, retry, `${method} ${url}`, { url, path, method });
  };
  return {
    write: (path, data, type) => send('PUT', path, data, type),
    remove: (path) => send('DELETE', path).catch(() => undefined),
  };
}
