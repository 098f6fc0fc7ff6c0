import type { StreamType } from '@framewire/browser-sdk';
import { loadDemoConfig } from './demo-config.js';

/** What the kiosk shows; from the URL (`?src=…&type=…&fit=…&stats`) or a JSON file of this shape. */
export interface KioskConfig {
  /**
   * The stream: an MJPEG URL (the bridge's `/video`), a bridge's `ws://…/ws` (H.264 over WebSocket), an HLS
   * `.m3u8`, a DASH `.mpd`, a progressive media URL, or with `type: 'webrtc'` a bridge's base or `/offer` URL.
   */
  src: string;
  /** The kind of stream; `webrtc` for a bridge's WebRTC. Default: guessed from the response and the URL. */
  type?: StreamType | 'webrtc';
  /** `contain` (default: letterboxed) or `cover` (fills the screen, cropping). */
  fit?: 'contain' | 'cover';
  /** Shows the stats overlay (fps, dropped frames, latency). Default: `false`. */
  stats?: boolean;
}

async function fetchConfig(url: string): Promise<Partial<KioskConfig> | undefined> {
  try {
    const response = await fetch(url, { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Partial<KioskConfig>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the stream to show, first match wins: `?src=<url>`; the JSON file named by `?config=<url>`; `kiosk.json`
 * beside the page; the bridge's MJPEG `/video` from the demo's `/config.json`.
 */
export async function loadKioskConfig(search = location.search): Promise<KioskConfig> {
  const params = new URLSearchParams(search);
  const fromUrl: Partial<KioskConfig> = {
    ...(params.get('type') ? { type: params.get('type') as StreamType | 'webrtc' } : {}),
    ...(params.get('fit') ? { fit: params.get('fit') as 'contain' | 'cover' } : {}),
    ...(params.has('stats') ? { stats: true } : {}),
  };
  const src = params.get('src');
  if (src) return { ...fromUrl, src: new URL(src, location.href).href };
  const configUrl = params.get('config');
  const file = await fetchConfig(configUrl ?? 'kiosk.json');
  if (file?.src) return { ...file, ...fromUrl, src: new URL(file.src, location.href).href };
  if (configUrl) throw new Error(`${configUrl} has no "src"`);
  const demo = await loadDemoConfig();
  return { ...fromUrl, src: new URL('/video', demo.bridgeUrl).href };
}
