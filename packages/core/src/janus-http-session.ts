import { FramewireError } from './framewire-error.js';

/** The part of `fetch`'s request options this client uses (the core compiles without DOM or Node types). */
export interface JanusFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  cache?: 'no-store';
  /** An `AbortSignal`. */
  signal?: unknown;
}

/** The `fetch` this client calls: the host's global `fetch` by default (browsers, workers, Node 18+). */
export type JanusFetch = (url: string, init: JanusFetchInit) => Promise<{ json(): Promise<unknown> }>;

/** Options of {@link JanusHttpSession.create}. */
export interface JanusHttpSessionOptions {
  /** Janus's API secret (`api_secret` in `janus.jcfg`), sent as `apisecret` in every request. Default: none. */
  apiSecret?: string;
  /** How long one request (not a long poll) may take, in ms. Default: 10000. */
  requestTimeoutMs?: number;
  /** The stage named in errors, e.g. `janus` or `janus-source`. Default: `janus`. */
  stage?: string;
  /** The `fetch` to call. Default: the global `fetch`. */
  fetch?: JanusFetch;
}

/** A WebRTC session description as Janus sends and takes it. */
export interface JanusJsep {
  /** `offer` or `answer`. */
  type: string;
  /** The SDP. */
  sdp: string;
}

/** One asynchronous event of a Janus session (from the long poll), e.g. a plugin's `event` with its offer. */
export interface JanusEvent {
  /** The event kind: `event`, `webrtcup`, `media`, `hangup`, `slowlink`, `detached`, `timeout`, … */
  janus: string;
  /** The handle the event is about, when it is about one. */
  sender?: number;
  /** The transaction it answers, for a plugin's asynchronous reply. */
  transaction?: string;
  /** The plugin's payload (`{ plugin, data }`), for `event`. */
  plugindata?: { plugin: string; data: Record<string, unknown> };
  /** A session description, when the plugin sends one (the streaming plugin's offer). */
  jsep?: JanusJsep;
  /** Janus's own ICE candidate, for `trickle` (`completed` once it has sent them all). */
  candidate?: JanusCandidate;
}

/** One trickled ICE candidate, or the end of them (`completed: true`). */
export interface JanusCandidate {
  /** The `candidate:…` line (without `a=`). */
  candidate?: string;
  /** The media section's mid. */
  sdpMid?: string;
  /** The media section's index. */
  sdpMLineIndex?: number;
  /** True once every candidate was sent. */
  completed?: boolean;
}

/** What Janus answered (`success`, `ack` or `error`), with the plugin's payload when there is one. */
interface JanusReply extends JanusEvent {
  data?: { id?: number };
  error?: { code: number; reason: string };
}

/** Janus's error code for a wrong or missing API secret (`JANUS_ERROR_UNAUTHORIZED`). */
const UNAUTHORIZED = 403;
/** Janus's error code for a session that does not exist (e.g. Janus restarted): `JANUS_ERROR_SESSION_NOT_FOUND`. */
const SESSION_NOT_FOUND = 458;
/** Janus's error code for a handle that does not exist: `JANUS_ERROR_HANDLE_NOT_FOUND`. */
const HANDLE_NOT_FOUND = 459;

let transactions = 0;

/** The options with their defaults applied. */
interface ResolvedOptions {
  apiSecret: string | undefined;
  requestTimeoutMs: number;
  stage: string;
  fetch: JanusFetch;
}

/** The host's globals this client uses, typed here because the core compiles without DOM or Node types. */
const host = globalThis as unknown as {
  fetch: JanusFetch;
  AbortSignal: { timeout(ms: number): unknown };
};

/**
 * One session of Janus's plain HTTP API (the REST transport, `http://host:8088/janus`): create the session, attach
 * plugin handles, send them messages (with a JSEP), long-poll the session's events, keep it alive, destroy it.
 * Isomorphic (only `fetch`), so the bridge and the browser SDK speak the protocol through the same code.
 *
 * A request that cannot reach Janus, or finds the session gone (Janus restarted: error 458/459), rejects with
 * `FW_ERR_CONNECTION_FAILED`; any other error Janus answers (403, wrong or missing API secret; a missing plugin; a
 * plugin's own error, such as a mountpoint that exists already) rejects with `FW_ERR_JANUS_REFUSED`, whose
 * `details` hold Janus's `code` and `reason`.
 */
export class JanusHttpSession {
  /** The session's id. */
  readonly id: number;
  /** The API's URL, e.g. `http://127.0.0.1:8088/janus`. */
  readonly url: string;
  readonly #options: ResolvedOptions;
  #destroyed = false;

  private constructor(url: string, id: number, options: ResolvedOptions) {
    this.url = url;
    this.id = id;
    this.#options = options;
  }

  /** Creates a session on the Janus at `url`; rejects as described on the class. */
  static async create(url: string, options: JanusHttpSessionOptions = {}): Promise<JanusHttpSession> {
    const resolved: ResolvedOptions = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      stage: options.stage ?? 'janus',
      apiSecret: options.apiSecret,
      fetch: options.fetch ?? ((url, init) => host.fetch(url, init)),
    };
    const base = url.replace(/\/+$/, '');
    const reply = await request(base, { janus: 'create' }, resolved);
    const id = reply.data?.id;
    if (typeof id !== 'number') throw refused(base, { code: 0, reason: 'no session id in the answer' }, resolved.stage);
    return new JanusHttpSession(base, id, resolved);
  }

  /** Attaches a handle to `plugin` (e.g. `janus.plugin.streaming`); resolves with the handle's id. */
  async attach(plugin: string): Promise<number> {
    const reply = await this.#send('', { janus: 'attach', plugin });
    const id = reply.data?.id;
    if (typeof id !== 'number') throw refused(this.url, { code: 0, reason: `cannot attach ${plugin}` }, this.#stage);
    return id;
  }

  /**
   * Sends `body` (and `jsep`) to the plugin behind `handle`. Resolves with the plugin's data for a synchronous
   * request (the streaming plugin's `create`, `destroy`, `list`, `info`), or with `undefined` once Janus acknowledged
   * an asynchronous one (`watch`, `start`): its outcome comes as an event of {@link poll}. A plugin's error
   * (`error_code` in its data) rejects with `FW_ERR_JANUS_REFUSED`.
   */
  async message(
    handle: number,
    body: Record<string, unknown>,
    jsep?: JanusJsep,
  ): Promise<Record<string, unknown> | undefined> {
    const reply = await this.#send(`/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) });
    if (reply.janus === 'ack') return undefined;
    const data = reply.plugindata?.data;
    pluginFailure(this.url, data, this.#stage);
    return data;
  }

  /** Trickles one of our ICE candidates to `handle`'s peer connection, or the end of them (`{ completed: true }`). */
  async trickle(handle: number, candidate: JanusCandidate): Promise<void> {
    await this.#send(`/${handle}`, { janus: 'trickle', candidate });
  }

  /** Detaches `handle` from its plugin (best effort: the session may be gone). */
  async detach(handle: number): Promise<void> {
    await this.#send(`/${handle}`, { janus: 'detach' }).catch(() => undefined);
  }

  /** Sends a keepalive (Janus ends a session that stays silent for its `session_timeout`). */
  async keepalive(): Promise<void> {
    await this.#send('', { janus: 'keepalive' });
  }

  /**
   * Long-polls the session's events (Janus answers when it has some, or after about 30 s with a `keepalive`, which
   * this drops); resolves with up to `maxEvents` events. `signal` (an `AbortSignal`) aborts the poll.
   */
  async poll(signal?: unknown, maxEvents = 10): Promise<JanusEvent[]> {
    let query = `maxev=${maxEvents}&rid=${Date.now()}`;
    if (this.#options.apiSecret !== undefined) query += `&apisecret=${encodeURIComponent(this.#options.apiSecret)}`;
    let parsed: unknown;
    try {
      const response = await this.#options.fetch(`${this.url}/${this.id}?${query}`, {
        cache: 'no-store',
        ...(signal === undefined ? {} : { signal }),
      });
      parsed = await response.json();
    } catch (cause) {
      throw unreachable(this.url, cause, this.#stage);
    }
    const events = (Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]).filter(isReply);
    for (const event of events) {
      if (event.janus === 'error' && event.error) throw replyError(this.url, event.error, this.#stage);
    }
    return events.filter((event) => event.janus !== 'keepalive');
  }

  /** Destroys the session (best effort: Janus may be gone). Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#send('', { janus: 'destroy' }).catch(() => undefined);
  }

  get #stage(): string {
    return this.#options.stage;
  }

  #send(path: string, body: Record<string, unknown>): Promise<JanusReply> {
    return request(`${this.url}/${this.id}${path}`, body, this.#options);
  }
}

/** POSTs one API request; resolves with Janus's `success` or `ack`, rejects as described on the class. */
async function request(url: string, body: Record<string, unknown>, options: ResolvedOptions): Promise<JanusReply> {
  const transaction = `fw${++transactions}`;
  const payload = {
    ...body,
    transaction,
    ...(options.apiSecret === undefined ? {} : { apisecret: options.apiSecret }),
  };
  let reply: JanusReply;
  try {
    const response = await options.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      cache: 'no-store',
      signal: host.AbortSignal.timeout(options.requestTimeoutMs),
    });
    reply = (await response.json()) as JanusReply;
  } catch (cause) {
    throw unreachable(url, cause, options.stage);
  }
  if (reply.janus === 'error')
    throw replyError(url, reply.error ?? { code: 0, reason: 'unknown error' }, options.stage);
  return reply;
}

/** True for an object with a `janus` field (one message of a long poll). */
function isReply(value: unknown): value is JanusReply {
  return typeof value === 'object' && value !== null && typeof (value as { janus?: unknown }).janus === 'string';
}

/** The error for Janus's `{ janus: 'error', error }`. */
function replyError(url: string, error: { code: number; reason: string }, stage: string): FramewireError {
  if (error.code === SESSION_NOT_FOUND || error.code === HANDLE_NOT_FOUND) {
    return new FramewireError('FW_ERR_CONNECTION_FAILED', `${url}: ${error.reason} (Janus restarted?)`, {
      stage,
      details: { janusCode: error.code, reason: error.reason },
    });
  }
  return refused(url, error, stage);
}

function refused(url: string, error: { code: number; reason: string }, stage: string): FramewireError {
  const hint = error.code === UNAUTHORIZED ? ': check the API secret (api_secret in janus.jcfg)' : '';
  return new FramewireError(
    'FW_ERR_JANUS_REFUSED',
    `${url} refused the request: ${error.code} ${error.reason}${hint}`,
    {
      stage,
      details: { janusCode: error.code, reason: error.reason },
    },
  );
}

function unreachable(url: string, cause: unknown, stage: string): FramewireError {
  return new FramewireError('FW_ERR_CONNECTION_FAILED', `cannot reach Janus at ${url}: ${String(cause)}`, {
    cause,
    stage,
  });
}

/** Throws `FW_ERR_JANUS_REFUSED` when a plugin's data reports an error (`error_code`, `error`). */
export function pluginFailure(url: string, data: Record<string, unknown> | undefined, stage: string): void {
  const code = data?.['error_code'];
  if (typeof code !== 'number') return;
  const reason = data?.['error'];
  throw refused(url, { code, reason: typeof reason === 'string' ? reason : 'plugin error' }, stage);
}
