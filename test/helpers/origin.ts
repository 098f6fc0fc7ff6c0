/** Browser side of the nginx origin (test/helpers/nginx-origin.mjs), started through the dev server's /__fw/ API. */

/** One request nginx logged. */
export interface OriginRequest {
  timeMs: number;
  method: string;
  /** The URI path, e.g. `/live/s1/v0/seg-3.m4s`. */
  path: string;
  status: number;
}

/** A running nginx origin (the configuration of docs/guides/origin.md) on 127.0.0.1. */
export interface NginxOrigin {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The bearer token nginx asks publishers for. */
  token: string;
  /** Every request nginx logged so far, in order. */
  accessLog(): Promise<OriginRequest[]>;
  /** Files under the root (relative paths, sorted). */
  files(): Promise<string[]>;
  /** Stops nginx (the port then refuses connections). */
  pause(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  /** Stops nginx and removes its folder. */
  close(): Promise<void>;
}

async function post(path: string, body?: object): Promise<Record<string, unknown>> {
  const response = await fetch(path, { method: 'POST', ...(body ? { body: JSON.stringify(body) } : {}) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(String(answer['error']));
  return answer;
}

/** Starts nginx; rejects with nginx's or the helper's message (e.g. "… run scripts/setup.sh"). */
export async function startNginxOrigin(token = 'test-origin-token'): Promise<NginxOrigin> {
  const { id, url } = (await post('/__fw/servers', { kind: 'nginx', token })) as { id: string; url: string };
  const stats = async (): Promise<{ accessLog: OriginRequest[]; files: string[] }> =>
    (await (await fetch(`/__fw/servers/${id}`)).json()) as { accessLog: OriginRequest[]; files: string[] };
  return {
    url,
    token,
    accessLog: async () => (await stats()).accessLog,
    files: async () => (await stats()).files,
    pause: async () => {
      await post(`/__fw/servers/${id}/stop`);
    },
    resume: async () => {
      await post(`/__fw/servers/${id}/start`);
    },
    close: async () => {
      await fetch(`/__fw/servers/${id}`, { method: 'DELETE' });
    },
  };
}

/** ffmpeg (on the Node side) reads `seconds` of the video of a (live) manifest: decoded frames, or `error`. */
export async function ffmpegReads(url: string, seconds: number): Promise<{ frames?: number; error?: string }> {
  const answer: { frames?: number; error?: string } = await post('/__fw/ffmpeg-url', { url, seconds });
  return answer;
}
