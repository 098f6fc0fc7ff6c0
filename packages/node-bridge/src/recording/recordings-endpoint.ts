import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '@framewire/core/node';
import { StaticFiles } from '../http/static-files.js';
import { parseRecordingName } from './recording-names.js';
import type { RecordingFileInfo, RecordingStore } from './recording-store.js';

/** The path of the recordings listing; files are at `<path>/<name>`. */
export const RECORDINGS_PATH = '/recordings';

/** One recording in the `GET /recordings` listing. */
export interface RecordingListEntry extends RecordingFileInfo {
  /** `finished`, or `recording` for a file being written (readable up to its last fragment). */
  state: 'finished' | 'recording';
  /** Its URL path on the bridge (add the token as `?token=` for a `<video>` element). */
  url: string;
}

/**
 * `GET /recordings`: the recordings as JSON (`{ recordings: [...] }`, newest first, the files being written
 * included); `GET /recordings/<name>`: one file, with byte ranges (`Range:` → 206) for seeking players. Names other
 * than a recording's (`..`, slashes, other files, the index) are refused with 400 `FW_ERR_PATH_INVALID`, unknown
 * recordings with 404 `FW_ERR_NOT_FOUND`. The bridge checks the token before it calls {@link handle}.
 */
export class RecordingsEndpoint {
  readonly #store: RecordingStore;
  readonly #files: StaticFiles;
  readonly #active: () => RecordingFileInfo[];

  /** Serves `store`; `active` lists the files being written. */
  constructor(store: RecordingStore, active: () => RecordingFileInfo[], corsOrigin = '*') {
    this.#store = store;
    this.#active = active;
    this.#files = new StaticFiles(store.dir, corsOrigin);
  }

  /** True when `path` is the endpoint's. */
  handles(path: string): boolean {
    return path === RECORDINGS_PATH || path.startsWith(`${RECORDINGS_PATH}/`);
  }

  /** The listing, newest first. */
  list(): RecordingListEntry[] {
    const entry = (info: RecordingFileInfo, state: RecordingListEntry['state']): RecordingListEntry => ({
      ...info,
      state,
      url: `${RECORDINGS_PATH}/${info.name}`,
    });
    return [
      ...this.#store.finished.map((f) => entry(f, 'finished')),
      ...this.#active().map((f) => entry(f, 'recording')),
    ].sort((a, b) => b.startMs - a.startMs || a.name.localeCompare(b.name));
  }

  /** Answers a GET or HEAD for `path` (the request's URL path, still URL-encoded). */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendError(response, 405, 'FW_ERR_PROTOCOL_VIOLATION', `method not allowed: ${request.method ?? ''}`);
      return;
    }
    if (path === RECORDINGS_PATH || path === `${RECORDINGS_PATH}/`) {
      sendJson(response, 200, { recordings: this.list() });
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(path.slice(RECORDINGS_PATH.length + 1));
    } catch {
      name = '';
    }
    if (parseRecordingName(name) === undefined) {
      sendError(response, 400, 'FW_ERR_PATH_INVALID', 'not a recording name (see GET /recordings)');
      return;
    }
    const known = this.#store.finished.some((f) => f.name === name) || this.#active().some((f) => f.name === name);
    if (!known) {
      sendError(response, 404, 'FW_ERR_NOT_FOUND', `no recording ${name}`);
      return;
    }
    await this.#files.handle(request, response, encodeURIComponent(name));
  }
}
