import { FramewireError, JanusHttpSession, type JanusEvent } from '@framewire/core';

/** What a handle's user hears from the shared session. */
export interface JanusHandleListener {
  /** An event of its handle (the streaming plugin's offer, `hangup`, …). */
  event(event: JanusEvent): void;
  /** The session was lost (Janus restarted or cannot be reached): the handle is gone. */
  lost(error: FramewireError): void;
}

/** One plugin handle on a shared session. */
export interface JanusHandleLease {
  /** The session (send the handle's messages through it). */
  session: JanusHttpSession;
  /** The handle's id. */
  handle: number;
  /** Detaches the handle; the session is destroyed with its last handle. Idempotent. */
  release(): void;
}

/** How often a shared session is kept alive besides its long poll, in ms (Janus ends silent sessions after 60 s). */
const KEEPALIVE_MS = 25_000;

/** One session shared by every handle on the same Janus (and API secret) in this page. */
interface Shared {
  session: Promise<JanusHttpSession>;
  listeners: Map<number, JanusHandleListener>;
  abort: AbortController;
  keepalive: ReturnType<typeof setInterval> | undefined;
  users: number;
}

const shared = new Map<string, Shared>();

/**
 * Attaches a handle of `plugin` to the one Janus HTTP session this page keeps per Janus URL and API secret, and
 * routes the session's events to the handle's listener. One session (hence one long poll) serves every viewer of a
 * page: a browser opens at most six HTTP/1.1 connections to one server, so a long poll per viewer would starve the
 * viewers' own requests from the seventh on. When the long poll fails (Janus restarted, or is unreachable), every
 * handle hears `lost` and the next attach creates a new session.
 */
export async function attachJanusHandle(
  url: string,
  apiSecret: string | undefined,
  plugin: string,
  listener: JanusHandleListener,
): Promise<JanusHandleLease> {
  const key = `${url}\n${apiSecret ?? ''}`;
  let entry = shared.get(key);
  if (!entry) {
    const created: Shared = {
      session: JanusHttpSession.create(url, {
        ...(apiSecret === undefined ? {} : { apiSecret }),
        stage: 'janus-source',
      }),
      listeners: new Map(),
      abort: new AbortController(),
      keepalive: undefined,
      users: 0,
    };
    entry = created;
    shared.set(key, created);
    created.session.then(
      (session) => start(key, created, session),
      () => forget(key, created),
    );
  }
  entry.users++;
  let session: JanusHttpSession;
  let handle: number;
  try {
    session = await entry.session;
    handle = await session.attach(plugin);
  } catch (error) {
    release(key, entry, undefined);
    throw error;
  }
  entry.listeners.set(handle, listener);
  const owner = entry;
  let released = false;
  return {
    session,
    handle,
    release: () => {
      if (released) return;
      released = true;
      release(key, owner, handle);
    },
  };
}

/** Starts the long poll and the keepalives of a new shared session. */
function start(key: string, entry: Shared, session: JanusHttpSession): void {
  entry.keepalive = setInterval(() => {
    session.keepalive().catch((error: unknown) => lose(key, entry, error));
  }, KEEPALIVE_MS);
  void (async () => {
    while (shared.get(key) === entry) {
      let events: JanusEvent[];
      try {
        events = await session.poll(entry.abort.signal);
      } catch (error) {
        if (!entry.abort.signal.aborted) lose(key, entry, error);
        return;
      }
      for (const event of events) {
        if (event.sender !== undefined) entry.listeners.get(event.sender)?.event(event);
        else if (event.janus === 'timeout') lose(key, entry, new Error('Janus ended the session (timeout)'));
      }
    }
  })();
}

/** The session is gone: every handle hears it, and the next attach makes a new one. */
function lose(key: string, entry: Shared, error: unknown): void {
  if (shared.get(key) !== entry) return;
  forget(key, entry);
  const failure =
    error instanceof FramewireError
      ? error
      : new FramewireError('FW_ERR_CONNECTION_FAILED', `the Janus session was lost: ${String(error)}`, {
          cause: error,
          stage: 'janus-source',
        });
  const listeners = [...entry.listeners.values()];
  entry.listeners.clear();
  for (const listener of listeners) listener.lost(failure);
}

function forget(key: string, entry: Shared): void {
  if (shared.get(key) === entry) shared.delete(key);
  entry.abort.abort();
  clearInterval(entry.keepalive);
}

function release(key: string, entry: Shared, handle: number | undefined): void {
  entry.users--;
  if (handle !== undefined && entry.listeners.delete(handle)) {
    void entry.session.then((session) => session.detach(handle)).catch(() => undefined);
  }
  if (entry.users > 0) return;
  const live = shared.get(key) === entry;
  forget(key, entry);
  if (live) void entry.session.then((session) => session.destroy()).catch(() => undefined);
}
