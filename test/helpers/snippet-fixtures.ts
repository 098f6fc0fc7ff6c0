/**
 * What the docs' runnable snippets reach (see DEVELOPERS.md, "Docs that cannot rot"): media made by ffmpeg on a
 * loopback server, the bridge CLI with its test pattern, a signaling server with a token endpoint, mosquitto (plain, TLS and WebSocket listeners), redis-server, and the placeholder addresses the guides use for them.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { SignalingServer, TokenAuthority } from '@framewire/signaling';
import { startBridge } from './demo-page.js';
import { startMosquitto } from './mosquitto.js';
import { startRedis } from './signaling.js';
import { makeMediaFile, startServer, tempDir } from './node.js';

const run = promisify(execFile);

/** The signaling secret of the fixtures, also in the snippets' environment (FRAMEWIRE_SIGNALING_SECRET, SECRET). */
export const SNIPPET_SIGNALING_SECRET = 'docs-snippet-secret-0123456789';

const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
};

/** The running fixtures and the placeholder → fixture address table. */
export interface SnippetFixtures {
  /** An 8 s 640×360 H.264 MP4 the page's `<input id="input">` holds and `url` points to. */
  clipPath: string;
  clipUrl: string;
  /** Placeholder (as written in the docs) → the fixture's address. */
  placeholders: [string, string][];
  stop(): Promise<void>;
}

/** Starts the fixtures: ffmpeg-made clip, HLS and DASH on a loopback server, and the bridge CLI. */
export async function startSnippetFixtures(): Promise<SnippetFixtures> {
  const dir = await tempDir();
  const clipPath = await makeMediaFile({ path: join(dir.path, 'clip.mp4'), durationS: 8, size: '640x360' });
  const ffmpeg = (args: string[]): Promise<unknown> =>
    run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', clipPath, '-c', 'copy', ...args]);
  await ffmpeg(['-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', join(dir.path, 'index.m3u8')]);
  // DASH with two renditions (the player guide switches between them).
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-i', clipPath, '-map', '0:v', '-map', '0:v'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-s:v:1', '320x180', '-b:v:0', '800k', '-b:v:1', '200k'],
    ...['-adaptation_sets', 'id=0,streams=v', '-f', 'dash', '-seg_duration', '1', join(dir.path, 'manifest.mpd')],
  ]);
  const signaling = await SignalingServer.start({
    host: '127.0.0.1',
    port: 0,
    secret: SNIPPET_SIGNALING_SECRET,
    allowedOrigins: ['*'],
  });
  const tokens = new TokenAuthority(SNIPPET_SIGNALING_SECRET);
  const media = await startServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    response.setHeader('access-control-allow-origin', '*');
    if (request.url === '/token') {
      // The application's token endpoint of the signaling guide.
      void tokens
        .issue({ room: 'garage-cam', role: 'publisher', sub: 'snippet' })
        .then((token) => response.writeHead(200, { 'content-type': 'text/plain' }).end(token));
      return;
    }
    if (request.url?.startsWith('/presign?')) {
      // The application's presigning endpoint of the origin guide: a URL of the upload sink for each path.
      const query = new URL(request.url, 'http://x').searchParams;
      const url = `http://${request.headers.host ?? ''}/upload/presigned/${query.get('path') ?? ''}?method=${query.get('method') ?? ''}`;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url }));
      return;
    }
    if (request.method !== 'GET') {
      // Uploads (the packager's and recorder's `target: { upload }`) are taken and dropped.
      response.setHeader('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      response.setHeader('access-control-allow-headers', request.headers['access-control-request-headers'] ?? '*');
      request.resume();
      request.on('end', () => response.writeHead(request.method === 'OPTIONS' ? 204 : 201).end());
      return;
    }
    readFile(join(dir.path, path)).then(
      (body) =>
        response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  const bridge = await startBridge();
  const mosquitto = await startMosquitto({ tls: true });
  const redis = await startRedis();
  const caPath = join(dir.path, 'mqtt-ca.pem');
  await writeFile(caPath, mosquitto.caPem ?? '');
  const mqttHost = new URL(mosquitto.url).host;
  const bridgeUrl = `http://127.0.0.1:${bridge.port}`;
  return {
    clipPath,
    clipUrl: `${media.url}/clip.mp4`,
    placeholders: [
      ['http://raspberrypi.local:8090', bridgeUrl],
      ['http://pi.local:8090', bridgeUrl],
      ['https://example.com/live/index.m3u8', `${media.url}/index.m3u8`],
      ['https://host/path/manifest.mpd', `${media.url}/manifest.mpd`],
      ['https://origin.example.com/live/', `${media.url}/upload/`],
      ['https://origin.example.com/recordings/', `${media.url}/upload/recordings/`],
      ['`/api/presign?', `\`${media.url}/presign?`],
      ['wss://signal.example.com/ws', `ws://127.0.0.1:${signaling.port}/ws`],
      ['ws://127.0.0.1:8443/ws', `ws://127.0.0.1:${signaling.port}/ws`],
      ["'/api/framewire-token'", `'${media.url}/token'`],
      ['mqtt://broker:1883', mosquitto.url],
      ['mqtts://broker:8883', mosquitto.tlsUrl ?? ''],
      ['ws://broker:9001', mosquitto.wsUrl],
      ['mqtt://127.0.0.1:1883', mosquitto.url],
      ['@broker.lan:1883', `@${mqttHost}`],
      ['/etc/mosquitto/ca/ca.pem', caPath],
      ['redis://10.0.0.5:6379', `redis://127.0.0.1:${redis.port}`],
      // The documented signaling ports: any free port, so that a snippet never meets a port another process holds.
      ['--port 8443 ', '--port 0 '],
      ['--port 8444 ', '--port 0 '],
    ],
    async stop() {
      await bridge.stop('SIGTERM');
      await signaling.close();
      await mosquitto.close();
      await redis.stop();
      await media.close();
      await dir.remove();
    },
  };
}

/** `code` with every placeholder address replaced by its fixture's. */
export function withFixtures(code: string, fixtures: SnippetFixtures): string {
  return fixtures.placeholders.reduce((text, [placeholder, actual]) => text.replaceAll(placeholder, actual), code);
}
