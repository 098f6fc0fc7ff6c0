import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FramewireError, assertOption } from '@framewire/core';
import { applyCliLogLevel, cliNumber, readTlsFiles, runCli } from '@framewire/core/node';
import { BridgeServer, type BridgeServerOptions } from './bridge-server.js';
import type { WebRtcIceServer } from './outputs/webrtc-output.js';
import { mqttSourceFromSpec } from './sources/mqtt-source-spec.js';
import { netGearSourcesFromSpec } from './sources/netgear-source-spec.js';
import { createSources, registerSourceKind, type SourceSpecOptions } from './sources/source-spec.js';
import { VERSION } from './version.js';
import { startExtraOutputs, startMqttBroker, type ExtraOutputOptions } from './cli-extra-outputs.js';
import { MOTION_CLI_OPTIONS, MOTION_USAGE, motionOptionsFromCli, type MotionCliValues } from './cli-motion.js';
import { RoomSource } from './sources/room-source.js';
import { BridgeRoomPeer } from './peers/bridge-room-peer.js';
import { runServiceCommand } from './service/service-command.js';
import { RECORD_CLI_OPTIONS, RECORD_USAGE, recordOptionsFromCli } from './recording/record-cli-options.js';
import { h264CliSettings } from './cli-h264.js';
import { runDoctorCommand } from './doctor/doctor-command.js';
import { parseBitrate } from './process/h264-settings.js';
import { runTlsCommand } from './tls/tls-command.js';

const USAGE = `Usage: framewire-bridge [options]
       framewire-bridge doctor [options]   what this machine can do and what the bridge will choose (--help)
       framewire-bridge service install [options]   run as a systemd service (framewire-bridge service --help)
       framewire-bridge tls [--name <host>]... [--ip <address>]...   a local CA and a LAN certificate (--help)

Serves video sources to browsers on one port: /health (open), /metrics, /video (MJPEG), /snapshot.jpg,
/ws (H.264 over WebSocket), and per source /sources/<id>/video, /sources/<id>/snapshot.jpg, /sources/<id>/ws;
with --webrtc also standard WHEP at /whep and /sources/<id>/whep (POST an SDP offer) and WHIP at /whip (video in),
with their older aliases /offer, /sources/<id>/offer and /publish (which also take JSON offers).

Options:
  --source <spec>      a source; repeat for several (default testpattern):
                         testpattern                   ffmpeg's moving test pattern
                         v4l2:/dev/video0              a V4L2 device (USB webcam, grabber)
                         picamera                      a Raspberry Pi camera via rpicam-vid, H.264 passed through
                         netgear://*:5555?pattern=1    a vidgear NetGear sender (ZeroMQ; the bridge binds)
                         netgear://*:5555,5556?pattern=1&multiserver=1   multi-server mode: one source per
                                                       sender port, named <id>-<port> (default netgear-5555, …)
                         mqtt://host:1883/framewire/cam1  frames another bridge's --mqtt-url publishes as cam1
                                                       (mqtts:// for TLS; user@ in the URL, password from
                                                       FRAMEWIRE_MQTT_PASSWORD)
                         file:/path/clip.mp4, rtsp://…, rtmp://…, http(s)://…   anything ffmpeg opens
                         ytdl:https://…                a video on a streaming site (YouTube, Twitch, any page
                                                       yt-dlp reads): yt-dlp -g finds its media URL before each
                                                       run (needs yt-dlp: apt-get install yt-dlp)
                       add #id=<name> to name it in URLs (e.g. v4l2:/dev/video2#id=desk), #audio=<audio> to give
                       it its own audio (e.g. picamera#id=cam&audio=alsa:plughw:1), #vf=<filtergraph> (last) to
                       filter the video of file:, URL, ytdl: and v4l2: sources in their own ffmpeg, e.g.
                       file:/x.mp4#id=x&vf=hflip,eq=gamma=1.2 (filters that open files or sockets, such as movie,
                       sendcmd, zmq or drawtext's fontfile=, are refused); H.264 that would be passed through is
                       then decoded and encoded once (/health: videoFilter.reencoded)
  --audio <audio>      the audio of every source (a source's #audio= wins), encoded once to Opus 48 kHz:
                         tone            the test pattern beeps (1 kHz, 100 ms) once a second and flashes white on
                                         the frames of the beep (for measuring A/V sync)
                         source          the audio track of file and URL sources (RTSP cameras, files)
                         alsa:<device>   an ALSA capture device, e.g. alsa:plughw:1,0 (a USB microphone)
                         pulse:<device>  a PulseAudio source, e.g. pulse:default
                         none            no audio (default)
                       a missing device is reported (FW_ERR_DEVICE_NOT_FOUND in /health) and the video goes on
  --ws, --mjpeg        outputs to serve (default: both)
  --webrtc             also serve WebRTC at /whep (WHEP) and /whip (WHIP, RFC 9725): POST an SDP offer
                       (application/sdp), get the answer and a session URL (Location) that PATCH trickles or
                       restarts and DELETE ends; a viewer whose browser takes H.264 gets the source's shared H.264
                       as is (no encode per viewer), one that takes only VP8 gets the source's one shared VP8 encode
                       (started by the first VP8 viewer, stopped after the last)
  --webrtc-max-viewers <n>   most WebRTC media viewers (H.264 or shared VP8) at once (default 500); more get 503
                       FW_ERR_CAPACITY_REACHED
  --webrtc-max-sessions <n>  most publishers, data-channel and per-viewer VP8 viewers at once (default 16)
  --webrtc-vp8-only    send every WebRTC viewer VP8, never H.264
  --webrtc-vp8-encoder <shared|per-viewer>  one VP8 encode per source for every VP8 viewer (default shared), or
                       one per viewer in the wrtc worker process (the older path, for comparison)
  --webrtc-ice-address <ip>  keep only ICE candidates with this address (repeat for several; e.g. 127.0.0.1 or
                       the LAN address viewers reach; default: every candidate); applies to --room-url too
  --whip-push <url>    publish a source's H.264 (no re-encode) to this WHIP endpoint, e.g. another bridge's
                       http://host:8090/whip or a cloud ingest; repeat for several; reconnects with backoff
  --whip-push-token <token>  bearer token for the --whip-push endpoints (default: FRAMEWIRE_WHIP_PUSH_TOKEN)
  --whip-push-source <id>    the source to publish with --whip-push (default: the first)
  --janus-url <url>    serve WebRTC viewers through Janus (its streaming plugin as the SFU), e.g.
                       http://127.0.0.1:8088/janus: per source, an RTP mountpoint (H.264 with the source's profile,
                       plus Opus with --audio; id in /health, description = the source id) created over Janus's
                       HTTP API and fed the source's shared RTP (no re-encode); created again when Janus restarts;
                       its state in /health (janus) and /metrics (framewire_janus_*)
  --janus-secret <s>   Janus's API secret (api_secret in janus.jcfg; default: FRAMEWIRE_JANUS_SECRET); a wrong
                       one shows as FW_ERR_JANUS_REFUSED in /health while the other outputs go on
  --webrtc-ice-server <url>  a STUN or TURN server of the bridge's WebRTC connections (stun:host:port,
                       turn:host:port?transport=udp, turns:…; repeat for several), also announced to WHIP/WHEP
                       clients in Link headers; TURN needs --webrtc-turn-username and FRAMEWIRE_TURN_CREDENTIAL
  --webrtc-turn-username <u>  the TURN user name (the password comes from FRAMEWIRE_TURN_CREDENTIAL)
  --room-url <url>     join a framewire room through this signaling server (ws://host:8443/ws) as a peer: publish
                       the first source as a WebRTC track; every publishing peer becomes source "room-<label>" (its
                       join meta.label) or "room-<peer id>" while it publishes, and source "room" serves the newest
                       publisher (/sources/room/video, /sources/room/snapshot.jpg, …); wrtc runs in a worker process
  --room <name>        the room to join (with --room-url)
  --room-token <jwt>   a publisher token for that room (default: FRAMEWIRE_ROOM_TOKEN)
  --room-publish <id>  publish this source instead of the first; repeat for several, "none" for none
  --mjpeg-quality <n>  JPEG quality, 2 (best) – 31, when the bridge encodes (default: the source's own)
  --mjpeg-width <px>   scale MJPEG to this width
  --bitrate <bps>      H.264 bitrate when the bridge or the Pi camera encodes, e.g. 2000000, 2M or 800k (default 2M)
  --keyframe-interval <frames>  H.264 keyframe interval: late joiners wait at most this long (default: fps)
  --h264-encoder <auto|hardware|software>  auto (default): on a Raspberry Pi 5 (no hardware encoder) picamera
                       encodes with libx264 inside rpicam-vid; on other Pis with the hardware encoder, and raw sources
                       with ffmpeg's h264_v4l2m2m when a test encode works; else libx264 ultrafast/zerolatency
  --h264-profile <baseline|main|high>  H.264 profile when the bridge or the Pi camera encodes (default baseline)
  --h264-level <level> H.264 level, e.g. 4.1 (the Pi's hardware encoder takes 4, 4.1, 4.2; default: the encoder's)
  --device-model-file <f>  the board model (default /proc/device-tree/model, then
                       /sys/firmware/devicetree/base/model; FRAMEWIRE_DEVICE_MODEL_FILE)
  --video-passthrough <auto|always|never>  whether file:, rtsp://… and v4l2: sources send their input's H.264 as
                       is (no decode, no encode) or decode it (to JPEG; the bridge then encodes H.264 once for every
                       H.264 output). auto (default): ffprobe looks at each file and URL when it starts (5 s at most)
                       and its H.264 is passed through when browsers play it as is (constrained baseline, baseline,
                       main or high profile, 8-bit 4:2:0, no B-frames), its Opus audio too (--audio source); a probe
                       that fails is reported (FW_ERR_PROBE_FAILED in /health) and the input decoded; v4l2: devices
                       are not probed (decoded). always: sent as is without a probe (it must be H.264; for WebRTC
                       viewers without B-frames; a v4l2: device is asked for H.264). never: always decoded
  --h264-passthrough   the older name of --video-passthrough always
  --stream-format <f>  yt-dlp's format selector for ytdl: sources (default best[height<=?720]/best)
  --pattern-always-on  run the test pattern's ffmpeg all the time; by default the test pattern (and its --audio tone) runs only
                       while something consumes it (a viewer, a snapshot, MQTT, shm, …) and is idle in /health
                       otherwise (a first viewer then waits for it to start, a few hundred ms)
  --host <address>     interface to bind (default 127.0.0.1; 0.0.0.0 serves the LAN)
  --port <number>      TCP port of every HTTP and WebSocket output, 0 for any free port (default 8090)
  --token <secret>     require this token on every endpoint but /health (Bearer header or ?token=)
  --tls-cert <pem file>  certificate chain: serve https and wss on --port (with --tls-key), which browsers need for
                       WebCodecs on a page not on localhost; \`framewire-bridge tls\` makes one for the LAN
  --tls-key <pem file>   the certificate's private key
  --static <dir>       serve a directory at /files/ (e.g. packaged DASH/HLS output)
  --mqtt-url <url>     also publish every source's JPEG frames to this MQTT broker (mqtt://, mqtts://, ws://),
                       topic <prefix>/<source id>/frame; retained latest snapshot for late joiners
  --mqtt-topic-prefix <p>  topic prefix (default framewire)
  --mqtt-username <u>  broker user (password from FRAMEWIRE_MQTT_PASSWORD)
  --mqtt-h264          also publish H.264 access units
  --mqtt-audio         with --mqtt-h264 and --audio, also publish each source's Opus packets to
                       <prefix>/<source id>/audio (docs/guides/mqtt.md)
  --mqtt-relay         serve MQTT over WebSocket at /mqtt, relayed to the --mqtt-url broker (mqtt://), so that
                       browsers (the SDK's MqttSource and MqttOutput) reach it through the bridge's port and token
  --mqtt-broker <port> run an MQTT broker inside the bridge (no mosquitto needed): plain MQTT on this TCP port (on
                       --host; with --token, clients give the token as their password, any user name) and MQTT over WebSocket at
                       /mqtt on the bridge's port; the bridge publishes its sources to it (not with --mqtt-url or
                       --mqtt-relay)
${RECORD_USAGE}
${MOTION_USAGE}
  --shm <name>         keep the newest raw BGR24 frame of the first source in /dev/shm/<name> for local readers
                       (layout: docs/guides/shared-memory-frames.md)
  --size <WxH>         frame size of cameras and the test pattern (default 1280x720)
  --fps <number>       frames per second of cameras and the test pattern (default 30)
  --camera-command <p> the camera tool of --source picamera (default rpicam-vid; libcamera-vid on older OS)
  --ffmpeg <path>      ffmpeg executable (default ffmpeg)
  --config <file>      JSON file with any of these options (long names, e.g. {"source": ["picamera"], "ws": true});
                       command-line flags win
  --log-level <level>  debug, info, warn, error or silent (default info)
  --version            print the version
  --help               print this help

Environment: FRAMEWIRE_TOKEN, FRAMEWIRE_BRIDGE_TLS_CERT, FRAMEWIRE_BRIDGE_TLS_KEY, FRAMEWIRE_ROOM_TOKEN, FRAMEWIRE_WHIP_PUSH_TOKEN, FRAMEWIRE_JANUS_SECRET, FRAMEWIRE_TURN_CREDENTIAL, FRAMEWIRE_BRIDGE_PORT, FRAMEWIRE_BRIDGE_HOST and FRAMEWIRE_LOG_LEVEL set defaults.`;

const options = {
  source: { type: 'string', multiple: true },
  audio: { type: 'string' },
  ws: { type: 'boolean' },
  mjpeg: { type: 'boolean' },
  webrtc: { type: 'boolean' },
  'webrtc-ice-address': { type: 'string', multiple: true },
  'webrtc-ice-server': { type: 'string', multiple: true },
  'webrtc-turn-username': { type: 'string' },
  'webrtc-max-sessions': { type: 'string' },
  'webrtc-max-viewers': { type: 'string' },
  'webrtc-vp8-only': { type: 'boolean' },
  'whip-push': { type: 'string', multiple: true },
  'whip-push-token': { type: 'string' },
  'whip-push-source': { type: 'string' },
  'janus-url': { type: 'string' },
  'janus-secret': { type: 'string' },
  'webrtc-vp8-encoder': { type: 'string' },
  'room-url': { type: 'string' },
  room: { type: 'string' },
  'room-token': { type: 'string' },
  'room-publish': { type: 'string', multiple: true },
  'mjpeg-quality': { type: 'string' },
  'mjpeg-width': { type: 'string' },
  bitrate: { type: 'string' },
  'keyframe-interval': { type: 'string' },
  'h264-encoder': { type: 'string' },
  'h264-profile': { type: 'string' },
  'h264-level': { type: 'string' },
  'device-model-file': { type: 'string' },
  'h264-passthrough': { type: 'boolean' },
  'pattern-always-on': { type: 'boolean' },
  'video-passthrough': { type: 'string' },
  'stream-format': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  static: { type: 'string' },
  'mqtt-url': { type: 'string' },
  'mqtt-topic-prefix': { type: 'string' },
  'mqtt-username': { type: 'string' },
  'mqtt-h264': { type: 'boolean' },
  'mqtt-audio': { type: 'boolean' },
  'mqtt-relay': { type: 'boolean' },
  'mqtt-broker': { type: 'string' },
  shm: { type: 'string' },
  ...RECORD_CLI_OPTIONS,
  size: { type: 'string' },
  fps: { type: 'string' },
  'camera-command': { type: 'string' },
  ffmpeg: { type: 'string' },
  config: { type: 'string' },
  'log-level': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean' },
  ...MOTION_CLI_OPTIONS,
} as const;

type CliValues = Partial<Record<keyof typeof options, string | boolean | string[]>>;

function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  assertOption(match, `--size must look like 1280x720; got ${text}`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

function number(values: CliValues, name: keyof typeof options): number | undefined {
  return cliNumber(values, name);
}

function readConfig(path: string): CliValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `--config ${path}: ${(error as Error).message}`);
  }
  assertOption(
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed),
    `--config ${path} must hold a JSON object`,
  );
  const config: CliValues = {};
  for (const [key, value] of Object.entries(parsed)) {
    assertOption(key in options && key !== 'config', `--config ${path}: unknown option ${key}`);
    const spec = options[key as keyof typeof options];
    const ok =
      spec.type === 'boolean'
        ? typeof value === 'boolean'
        : 'multiple' in spec
          ? typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
          : typeof value === 'string' || typeof value === 'number';
    assertOption(ok, `--config ${path}: ${key} has the wrong type`);
    config[key as keyof typeof options] =
      'multiple' in spec && typeof value === 'string'
        ? [value]
        : typeof value === 'number'
          ? String(value)
          : (value as string | boolean | string[]);
  }
  return config;
}

/** The `--webrtc-ice-server` servers, TURN ones with `--webrtc-turn-username` and `FRAMEWIRE_TURN_CREDENTIAL`. */
function iceServers(values: CliValues): WebRtcIceServer[] {
  const urls = (values['webrtc-ice-server'] as string[] | undefined) ?? [];
  const username = values['webrtc-turn-username'] as string | undefined;
  const credential = process.env['FRAMEWIRE_TURN_CREDENTIAL'];
  return urls.map((url) => {
    assertOption(
      /^(stun|turns?):[^\s/]+$/.test(url),
      `--webrtc-ice-server must be a stun:, turn: or turns: URL such as turn:turn.example.com:3478; got ${url}`,
    );
    if (url.startsWith('stun:')) return { urls: url };
    assertOption(
      username !== undefined && username !== '' && credential !== undefined && credential !== '',
      `--webrtc-ice-server ${url} needs --webrtc-turn-username and FRAMEWIRE_TURN_CREDENTIAL`,
    );
    return { urls: url, username, credential };
  });
}

/** The `--whip-push` options of the extra outputs. */
function whipPush(
  values: CliValues,
): Pick<ExtraOutputOptions, 'whipPushUrls' | 'whipPushToken' | 'whipPushSource' | 'iceAddresses' | 'iceServers'> {
  const urls = values['whip-push'] as string[] | undefined;
  const token = (values['whip-push-token'] as string | undefined) ?? process.env['FRAMEWIRE_WHIP_PUSH_TOKEN'];
  const source = values['whip-push-source'] as string | undefined;
  assertOption(urls !== undefined || source === undefined, '--whip-push-source needs --whip-push');
  if (urls === undefined) return {};
  return {
    whipPushUrls: urls,
    ...(token === undefined ? {} : { whipPushToken: token }),
    ...(source === undefined ? {} : { whipPushSource: source }),
    iceAddresses: (values['webrtc-ice-address'] as string[] | undefined) ?? [],
    iceServers: iceServers(values),
  };
}

/** The `--janus-url` options of the extra outputs. */
function janus(values: CliValues): Pick<ExtraOutputOptions, 'janusUrl' | 'janusSecret'> {
  const url = values['janus-url'] as string | undefined;
  const secret = (values['janus-secret'] as string | undefined) ?? process.env['FRAMEWIRE_JANUS_SECRET'];
  assertOption(url !== undefined || values['janus-secret'] === undefined, '--janus-secret needs --janus-url');
  if (url === undefined) return {};
  return { janusUrl: url, ...(secret === undefined ? {} : { janusSecret: secret }) };
}

registerSourceKind('netgear', (spec, id) => netGearSourcesFromSpec(spec, id));
for (const scheme of ['mqtt', 'mqtts']) {
  registerSourceKind(scheme, (spec, id) => mqttSourceFromSpec(spec, id, process.env['FRAMEWIRE_MQTT_PASSWORD']));
}

// `framewire-bridge service …` installs or removes the systemd unit, then exits.
if (process.argv[2] === 'service') await runServiceCommand(process.argv.slice(3), options);
if (process.argv[2] === 'doctor') process.exit(await runDoctorCommand(process.argv.slice(3)));

await runCli('framewire-bridge', async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'tls') {
    await runTlsCommand(rest, (text) => process.stdout.write(text));
    process.exit(0);
  }
  let cli: CliValues;
  try {
    cli = parseArgs({ options, strict: true }).values;
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `${(error as Error).message}\n\n${USAGE}`);
  }
  if (cli.help || cli.version) {
    process.stdout.write(`${cli.help ? USAGE : VERSION}\n`);
    process.exit(0);
  }
  const values: CliValues = { ...(typeof cli.config === 'string' ? readConfig(cli.config) : {}), ...cli };
  applyCliLogLevel(values['log-level'] as string | undefined);
  const port = number(values, 'port') ?? Number(process.env['FRAMEWIRE_BRIDGE_PORT'] ?? 8090);
  const host = (values.host as string | undefined) ?? process.env['FRAMEWIRE_BRIDGE_HOST'] ?? '127.0.0.1';
  const token = (values.token as string | undefined) ?? process.env['FRAMEWIRE_TOKEN'];
  const frameRate = number(values, 'fps') ?? 30;
  const ffmpegPath = values.ffmpeg as string | undefined;
  const keyframeIntervalFrames = number(values, 'keyframe-interval') ?? Math.max(1, Math.round(frameRate));
  const bitrateBps = typeof values.bitrate === 'string' ? parseBitrate(values.bitrate, '--bitrate') : undefined;
  const specs = (values.source as string[] | undefined) ?? ['testpattern'];
  const h264 = await h264CliSettings({
    encoder: values['h264-encoder'] as string | undefined,
    profile: values['h264-profile'] as string | undefined,
    level: values['h264-level'] as string | undefined,
    deviceModelFile: values['device-model-file'] as string | undefined,
    ffmpegPath,
    usesCamera: specs.some((spec) => spec.split('#')[0] === 'picamera'),
  });
  const common: SourceSpecOptions = {
    ...h264.source,
    ...parseSize((values.size as string | undefined) ?? '1280x720'),
    frameRate,
    keyframeIntervalFrames,
    ...(bitrateBps === undefined ? {} : { bitrateBps }),
    ...(ffmpegPath ? { ffmpegPath } : {}),
    ...(typeof values['camera-command'] === 'string' ? { cameraCommand: values['camera-command'] } : {}),
    ...(values['h264-passthrough'] === true ? { h264Passthrough: true } : {}),
    ...(values['pattern-always-on'] === true ? { patternOnDemand: false } : {}),
    ...(typeof values['stream-format'] === 'string' ? { streamFormat: values['stream-format'] } : {}),
    ...(typeof values['video-passthrough'] === 'string'
      ? { videoPassthrough: values['video-passthrough'] as SourceSpecOptions['videoPassthrough'] }
      : {}),
    ...(typeof values.audio === 'string' ? { audio: values.audio } : {}),
  };
  const sources = specs.flatMap((spec) => createSources(spec, common));
  const roomUrl = values['room-url'] as string | undefined;
  const roomName = values.room as string | undefined;
  const roomToken = (values['room-token'] as string | undefined) ?? process.env['FRAMEWIRE_ROOM_TOKEN'];
  assertOption(
    (roomUrl === undefined) === (roomName === undefined),
    '--room-url and --room go together (the signaling URL and the room to join)',
  );
  assertOption(
    roomUrl === undefined || (roomToken !== undefined && roomToken !== ''),
    '--room-url needs a token: --room-token or FRAMEWIRE_ROOM_TOKEN',
  );
  const roomSource = roomUrl === undefined ? undefined : new RoomSource('room');
  if (roomSource) sources.push(roomSource);
  // Neither flag given: serve both.
  const both = values.ws === undefined && values.mjpeg === undefined;
  const quality = number(values, 'mjpeg-quality');
  const width = number(values, 'mjpeg-width');
  const maxSessions = number(values, 'webrtc-max-sessions');
  const maxViewers = number(values, 'webrtc-max-viewers');
  const servers = iceServers(values);
  const vp8Encoder = values['webrtc-vp8-encoder'] as string | undefined;
  assertOption(
    vp8Encoder === undefined || vp8Encoder === 'shared' || vp8Encoder === 'per-viewer',
    `--webrtc-vp8-encoder must be shared or per-viewer; got ${String(vp8Encoder)}`,
  );
  const record = recordOptionsFromCli(values);
  // --record-on motion needs the detector: with its defaults unless --motion and its options say otherwise.
  const motion = motionOptionsFromCli(values as MotionCliValues) ?? (record?.mode === 'triggered' ? {} : undefined);
  const bridgeOptions: BridgeServerOptions = {
    host,
    port,
    sources,
    websocket: both || values.ws === true,
    mjpeg:
      both || values.mjpeg === true
        ? { ...(quality === undefined ? {} : { quality }), ...(width === undefined ? {} : { width }) }
        : false,
    ...(values.webrtc === true
      ? {
          webrtc: {
            iceAddresses: (values['webrtc-ice-address'] as string[] | undefined) ?? [],
            iceServers: servers,
            ...(maxSessions === undefined ? {} : { maxSessions }),
            ...(maxViewers === undefined ? {} : { maxPassthroughViewers: maxViewers }),
            ...(values['webrtc-vp8-only'] === true ? { h264Passthrough: false } : {}),
            ...(vp8Encoder === undefined ? {} : { vp8Encoder }),
          },
        }
      : {}),
    h264: { keyframeIntervalFrames, ...(bitrateBps === undefined ? {} : { bitrateBps }), ...h264.encode },
    ...(token ? { token } : {}),
    ...(typeof values.static === 'string' ? { staticDir: values.static } : {}),
    ...(ffmpegPath ? { ffmpegPath } : {}),
    ...(motion ? { motion } : {}),
  };
  if (record) bridgeOptions.record = record;
  const tlsCert = (values['tls-cert'] as string | undefined) ?? process.env['FRAMEWIRE_BRIDGE_TLS_CERT'];
  const tlsKey = (values['tls-key'] as string | undefined) ?? process.env['FRAMEWIRE_BRIDGE_TLS_KEY'];
  assertOption(
    (tlsCert === undefined) === (tlsKey === undefined),
    '--tls-cert and --tls-key go together (or FRAMEWIRE_BRIDGE_TLS_CERT and _KEY)',
  );
  if (tlsCert !== undefined && tlsKey !== undefined) bridgeOptions.tls = await readTlsFiles(tlsCert, tlsKey);
  const push = whipPush(values);
  const bridge = await BridgeServer.start(bridgeOptions);
  const text = (name: keyof typeof options): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  let password = process.env['FRAMEWIRE_MQTT_PASSWORD'];
  let mqttUrl = text('mqtt-url');
  let extras;
  try {
    const broker = await startMqttBroker(bridge, text('mqtt-broker'), {
      host,
      token,
      relay: values['mqtt-relay'] === true,
      url: mqttUrl,
    });
    if (broker) {
      mqttUrl = broker.url;
      password = token;
    }
    // MQTT 3.1.1 sends a password only with a user name.
    const username = text('mqtt-username') ?? (broker && token !== undefined ? 'framewire-bridge' : undefined);
    extras = startExtraOutputs(bridge, {
      ...(mqttUrl === undefined ? {} : { mqttUrl }),
      ...(text('mqtt-topic-prefix') === undefined ? {} : { mqttTopicPrefix: text('mqtt-topic-prefix') }),
      ...(username === undefined ? {} : { mqttUsername: username }),
      ...(password === undefined ? {} : { mqttPassword: password }),
      ...(values['mqtt-h264'] === true ? { mqttH264: true } : {}),
      ...(values['mqtt-audio'] === true ? { mqttAudio: true } : {}),
      ...(values['mqtt-relay'] === true ? { mqttRelay: true } : {}),
      ...(text('shm') === undefined ? {} : { shmName: text('shm') }),
      ...push,
      ...janus(values),
    });
  } catch (error) {
    await bridge.close();
    throw error;
  }
  if (roomUrl !== undefined && roomName !== undefined && roomToken !== undefined) {
    const publish = values['room-publish'] as string[] | undefined;
    try {
      await BridgeRoomPeer.open(bridge, {
        url: roomUrl,
        room: roomName,
        token: roomToken,
        ...(roomSource ? { receive: roomSource } : {}),
        ...(publish === undefined ? {} : { publish: publish.filter((id) => id !== 'none') }),
        iceAddresses: (values['webrtc-ice-address'] as string[] | undefined) ?? [],
      });
    } catch (error) {
      await Promise.all(extras.map(async (output) => output.close()));
      await bridge.close();
      throw error;
    }
  }
  return {
    close: async () => {
      await Promise.all(extras.map(async (output) => output.close()));
      await bridge.close();
    },
  };
});
