import { FramewireError, TypedEmitter, assertOption } from '@framewire/core';
import { loadDash, loadHls } from '../core/lazy-modules.js';

/** Options of {@link Player.open}. */
export interface PlayerOptions {
  /** `hls` (hls.js) or `dash` (dash.js). Default: from the URL (`.mpd` → `dash`, otherwise `hls`). */
  type?: 'hls' | 'dash';
  /** Starts playing as soon as possible (muted, so browsers allow it). Default: `true`. */
  autoplay?: boolean;
}

/** A video rendition as the player sees it. */
export interface PlayerRendition {
  /** Index to pass to {@link Player.selectRendition}. */
  index: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Declared bitrate in bits per second. */
  bitrateBps: number;
}

/** Events of a {@link Player}. */
export type PlayerEvents = {
  /** The manifest was read: the renditions are known. */
  ready: { renditions: PlayerRendition[]; live: boolean };
  /** A rendition is now shown (its first frames were rendered). */
  rendition: { index: number; width: number; height: number };
  /** A playback failure; fatal ones stop playback. */
  error: { error: FramewireError; fatal: boolean };
};

interface Engine {
  renditions(): PlayerRendition[];
  select(index: number | 'auto'): void;
  destroy(): void;
}

/**
 * Plays a DASH or HLS package in a `<video>` element with dash.js or hls.js, loaded lazily (`loadDash()`,
 * `loadHls()`) — a thin wrapper with one event model and manual rendition selection for both.
 *
 * @example
 * ```ts
 * const player = await Framewire.Player.open(video, 'https://example.com/live/manifest.mpd');
 * player.selectRendition(1); // or 'auto'
 * ```
 */
export class Player {
  /** The engine in use. */
  readonly type: 'hls' | 'dash';
  /** The element it plays in. */
  readonly video: HTMLVideoElement;
  readonly #events: TypedEmitter<PlayerEvents>;
  readonly #engine: Engine;
  #closed = false;

  private constructor(
    type: 'hls' | 'dash',
    video: HTMLVideoElement,
    events: TypedEmitter<PlayerEvents>,
    engine: Engine,
  ) {
    this.type = type;
    this.video = video;
    this.#events = events;
    this.#engine = engine;
  }

  /**
   * Loads the engine and starts loading `url` into `video`; resolves once the manifest has been read (the
   * `ready` event). Rejects with `FW_ERR_LAZY_LOAD_FAILED`, `FW_ERR_NOT_SUPPORTED` (no MediaSource) or
   * `FW_ERR_MEDIA_UNREADABLE` / `FW_ERR_NETWORK_FAILED` when the manifest cannot be played.
   */
  static async open(video: HTMLVideoElement, url: string | URL, options: PlayerOptions = {}): Promise<Player> {
    assertOption(video instanceof HTMLVideoElement, 'video must be an HTMLVideoElement');
    const href = new URL(String(url), location.href).href;
    const type = options.type ?? (new URL(href).pathname.endsWith('.mpd') ? 'dash' : 'hls');
    assertOption((['hls', 'dash'] as unknown[]).includes(type), `options.type must be 'hls' or 'dash'; got ${type}`);
    const autoplay = options.autoplay ?? true;
    video.muted = video.muted || autoplay;
    const events = new TypedEmitter<PlayerEvents>();
    let settle: { resolve: () => void; reject: (error: FramewireError) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const fail = (error: FramewireError, fatal: boolean): void => {
      events.emit('error', { error, fatal });
      if (fatal) settle?.reject(error);
    };
    const engine =
      type === 'hls'
        ? await hlsEngine(video, href, autoplay, events, () => settle?.resolve(), fail)
        : await dashEngine(video, href, autoplay, events, () => settle?.resolve(), fail);
    try {
      await ready;
    } catch (error) {
      engine.destroy();
      throw error;
    }
    return new Player(type, video, events, engine);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PlayerEvents>(event: E, listener: (payload: PlayerEvents[E]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** The video renditions, in manifest order. */
  get renditions(): PlayerRendition[] {
    return this.#engine.renditions();
  }

  /** Shows rendition `index` from now on (the switch happens at the next segment), or lets ABR choose (`auto`). */
  selectRendition(index: number | 'auto'): void {
    assertOption(
      index === 'auto' || (Number.isInteger(index) && index >= 0 && index < this.renditions.length),
      `index must be 'auto' or 0–${this.renditions.length - 1}; got ${String(index)}`,
    );
    this.#engine.select(index);
  }

  /** Stops playback and releases the engine and the element's source. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#engine.destroy();
    this.#events.removeAllListeners();
  }
}

type Fail = (error: FramewireError, fatal: boolean) => void;

const unplayable = (engine: string, url: string, what: string, cause: unknown): FramewireError =>
  new FramewireError('FW_ERR_MEDIA_UNREADABLE', `${engine} cannot play ${url}: ${what}`, {
    cause,
    fatal: true,
    stage: 'playback',
  });

async function hlsEngine(
  video: HTMLVideoElement,
  url: string,
  autoplay: boolean,
  events: TypedEmitter<PlayerEvents>,
  ready: () => void,
  fail: Fail,
): Promise<Engine> {
  const Hls = await loadHls();
  if (!Hls.isSupported()) {
    throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'hls.js cannot play in this browser (no MediaSource)', {
      fatal: true,
      stage: 'playback',
    });
  }
  const hls = new Hls({ enableWorker: false });
  const renditions = (): PlayerRendition[] =>
    hls.levels.map((level, index) => ({ index, width: level.width, height: level.height, bitrateBps: level.bitrate }));
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    events.emit('ready', { renditions: renditions(), live: false });
    ready();
    if (autoplay) void video.play().catch(() => undefined);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
    const level = hls.levels[data.level];
    if (level) events.emit('rendition', { index: data.level, width: level.width, height: level.height });
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    const status = data.response?.code;
    const error =
      data.type === Hls.ErrorTypes.NETWORK_ERROR
        ? new FramewireError(
            'FW_ERR_NETWORK_FAILED',
            `hls.js could not fetch ${data.url ?? url}${status ? ` (HTTP ${status})` : ''}: ${data.details}`,
            { cause: data.error, fatal: data.fatal, stage: 'playback', details: status ? { status } : {} },
          )
        : unplayable('hls.js', url, data.details, data.error);
    fail(error, data.fatal);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    renditions,
    select: (index) => {
      hls.currentLevel = index === 'auto' ? -1 : index;
    },
    destroy: () => hls.destroy(),
  };
}

async function dashEngine(
  video: HTMLVideoElement,
  url: string,
  autoplay: boolean,
  events: TypedEmitter<PlayerEvents>,
  ready: () => void,
  fail: Fail,
): Promise<Engine> {
  const dashjs = await loadDash();
  const player = dashjs.MediaPlayer().create();
  const renditions = (): PlayerRendition[] =>
    player.getRepresentationsByType('video').map((r, index) => ({
      index,
      width: r.width,
      height: r.height,
      bitrateBps: r.bandwidth,
    }));
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
    events.emit('ready', { renditions: renditions(), live: player.isDynamic() });
    ready();
  });
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (event: unknown) => {
    const { mediaType, newRepresentation } = event as {
      mediaType: string;
      newRepresentation: { width: number; height: number };
    };
    if (mediaType !== 'video') return;
    const index = player
      .getRepresentationsByType('video')
      .findIndex((r) => r.width === newRepresentation.width && r.height === newRepresentation.height);
    events.emit('rendition', { index, width: newRepresentation.width, height: newRepresentation.height });
  });
  player.on('error', (event: unknown) => {
    const error = (event as { error?: { code?: number; message?: string } }).error;
    fail(unplayable('dash.js', url, error?.message ?? 'unknown error', error), true);
  });
  player.initialize(video, url, autoplay);
  return {
    renditions,
    select: (index) => {
      const settings = { streaming: { abr: { autoSwitchBitrate: { video: index === 'auto' } } } };
      // dash.js types its settings as a class; a plain object of the same shape is what it takes.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      player.updateSettings(settings);
      if (index !== 'auto') player.setRepresentationForTypeByIndex('video', index, true);
    },
    destroy: () => player.destroy(),
  };
}
