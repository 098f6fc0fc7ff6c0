import { MQTT_DEFAULT_TOPIC_PREFIX, assertOption, createLogger, mqttFrameTopic } from '@framewire/core';
import type { BridgeServer } from './bridge-server.js';
import { isRawFrame, type SourceFrame } from './media/source-frame.js';
import { MqttOutput, type MqttOutputOptions } from './outputs/mqtt-output.js';
import { MqttWebSocketRelay } from './outputs/mqtt-websocket-relay.js';
import { MqttBroker } from './mqtt/mqtt-broker.js';
import { BRIDGE_PATHS } from './protocol.js';
import { ShmFrameBuffer } from './outputs/shm-frame-buffer.js';
import type { WebRtcIceServer } from './outputs/webrtc-output.js';
import { JanusOutput } from './outputs/janus-output.js';
import { WhipPushOutput } from './outputs/whip-push-output.js';
import { MqttSource } from './sources/mqtt-source.js';
import { MotionMqttPublisher } from './motion/motion-mqtt-publisher.js';
import type { VideoSource } from './sources/video-source.js';

/** Outputs the CLI adds beside the bridge's own HTTP/WebSocket outputs. */
export interface ExtraOutputOptions {
  /** Publish every source's JPEG frames (and H.264 with `mqttH264`) to this broker (`mqtt://`, `mqtts://`, `ws://`). */
  mqttUrl?: string;
  /** Topic prefix: frames go to `<prefix>/<source id>/frame`. Default: the MQTT output's default. */
  mqttTopicPrefix?: string;
  /** Broker user name. */
  mqttUsername?: string;
  /** Broker password. */
  mqttPassword?: string;
  /** Also publish H.264 access units. Default: JPEG only. */
  mqttH264?: boolean;
  /** With `mqttH264`, also publish each source's Opus audio to `<prefix>/<source id>/audio` (`--mqtt-audio`). */
  mqttAudio?: boolean;
  /** Relay MQTT over WebSocket at `/mqtt` to the broker of `mqttUrl` (which must be `mqtt://host:port`). */
  mqttRelay?: boolean;
  /** Keep the newest raw BGR24 frame of the first source in `/dev/shm/<shmName>` for local readers. */
  shmName?: string;
  /** Publish a source's H.264 to these WHIP endpoints (`--whip-push`). Default: none. */
  whipPushUrls?: string[];
  /** Bearer token for the WHIP endpoints (`--whip-push-token`). Default: none. */
  whipPushToken?: string;
  /** The source to publish with `whipPushUrls`. Default: the first source. */
  whipPushSource?: string;
  /** Serve every source's viewers through the Janus whose HTTP API is at this URL (`--janus-url`). Default: none. */
  janusUrl?: string;
  /** Janus's API secret (`--janus-secret`). Default: none. */
  janusSecret?: string;
  /** Keep only ICE candidates with these addresses on the WHIP push connections. Default: every candidate. */
  iceAddresses?: string[];
  /** STUN/TURN servers of the WHIP push connections. Default: none (the bridge's own STUN server on 127.0.0.1). */
  iceServers?: WebRtcIceServer[];
}

const log = createLogger('bridge-cli');

/** True when `source` subscribes to the topic the MQTT output would publish it to (a loop through the broker). */
function republishesItself(source: VideoSource, options: ExtraOutputOptions): boolean {
  if (!(source instanceof MqttSource) || options.mqttUrl === undefined) return false;
  const topic = mqttFrameTopic(options.mqttTopicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX, source.id);
  // An unparsable --mqtt-url is refused by the output itself, with a clear message.
  const origin = (url: string): string => (URL.canParse(url) ? new URL(url).host : url);
  return topic === source.topic && origin(options.mqttUrl) === origin(source.brokerUrl);
}

/** Something that is closed when the bridge stops. */
interface Closable {
  close(): Promise<void> | void;
}

/** An `on('frame')` view of one of the bridge's shared feeds (one transcoder per format, whoever listens). */
function feedEmitter(bridge: BridgeServer, id: string, format: 'jpeg' | 'h264' | 'BGR24') {
  const feed = bridge.feed(id, format);
  return {
    on: (_event: 'frame', listener: (payload: { frame: SourceFrame }) => void): (() => void) =>
      feed.subscribe((frame) => listener({ frame })),
  };
}

/**
 * Starts the bridge's own MQTT broker for `--mqtt-broker <port>` (nothing without it) and serves it over WebSocket
 * at `/mqtt`; the bridge then publishes to its URL. Throws `FW_ERR_INVALID_OPTION` for a bad port or with
 * `--mqtt-url`/`--mqtt-relay` (they name another broker), `FW_ERR_LISTEN_FAILED` when the port is taken.
 */
export async function startMqttBroker(
  bridge: BridgeServer,
  port: string | undefined,
  options: { host: string; token: string | undefined; relay: boolean; url: string | undefined },
): Promise<MqttBroker | undefined> {
  if (port === undefined) return undefined;
  assertOption(/^\d{1,5}$/.test(port) && Number(port) < 65536, `--mqtt-broker must be a TCP port; got ${port}`);
  assertOption(
    options.url === undefined && !options.relay,
    '--mqtt-broker runs the broker the bridge publishes to: leave out --mqtt-url and --mqtt-relay',
  );
  const broker = await MqttBroker.start({
    host: options.host,
    port: Number(port),
    ...(options.token === undefined ? {} : { password: options.token }),
  });
  bridge.mountWebSocket(BRIDGE_PATHS.mqtt, broker);
  log.info(`MQTT broker on ${broker.url} and over WebSocket at ${BRIDGE_PATHS.mqtt}`);
  return broker;
}

/**
 * Starts the MQTT output (and, with motion detection, the MQTT motion events), the shared-memory frame buffer the CLI asked for, fed from the bridge's shared
 * feeds (so a source is still encoded once, whoever listens). Resolves with what must be closed on shutdown.
 */
export function startExtraOutputs(bridge: BridgeServer, options: ExtraOutputOptions): Closable[] {
  const started: Closable[] = [];
  assertOption(!options.mqttAudio || options.mqttH264 === true, '--mqtt-audio needs --mqtt-h264');
  if (options.mqttUrl !== undefined) {
    assertOption(options.mqttUrl.length > 0, '--mqtt-url must be a broker URL such as mqtt://127.0.0.1:1883');
    for (const source of bridge.sources) {
      if (republishesItself(source, options)) {
        log.warn(`not publishing ${source.id} to MQTT: it comes from that very topic`);
        continue;
      }
      const mqttOptions: MqttOutputOptions = {
        url: options.mqttUrl,
        streamId: source.id,
        ...(options.mqttTopicPrefix === undefined ? {} : { topicPrefix: options.mqttTopicPrefix }),
        ...(options.mqttUsername === undefined ? {} : { username: options.mqttUsername }),
        ...(options.mqttPassword === undefined ? {} : { password: options.mqttPassword }),
      };
      started.push(new MqttOutput(feedEmitter(bridge, source.id, 'jpeg'), mqttOptions));
      if (options.mqttH264) {
        const audio = options.mqttAudio === true;
        started.push(
          new MqttOutput(feedEmitter(bridge, source.id, 'h264'), { ...mqttOptions, codecs: ['h264'], audio }, source),
        );
      }
    }
  }
  const { motion } = bridge;
  if (options.mqttUrl !== undefined && motion)
    started.push(
      new MotionMqttPublisher(motion, {
        url: options.mqttUrl,
        ...(options.mqttTopicPrefix === undefined ? {} : { topicPrefix: options.mqttTopicPrefix }),
        ...(options.mqttUsername === undefined ? {} : { username: options.mqttUsername }),
        ...(options.mqttPassword === undefined ? {} : { password: options.mqttPassword }),
      }),
    );
  if (options.mqttRelay) {
    const broker = options.mqttUrl === undefined ? undefined : new URL(options.mqttUrl);
    assertOption(
      broker?.protocol === 'mqtt:',
      "--mqtt-relay needs --mqtt-url mqtt://host:port (the broker's plain TCP listener)",
    );
    bridge.mountWebSocket(
      BRIDGE_PATHS.mqtt,
      new MqttWebSocketRelay({ brokerHost: broker.hostname, brokerPort: Number(broker.port || 1883) }),
    );
  }
  for (const url of options.whipPushUrls ?? []) {
    const sourceId = options.whipPushSource ?? bridge.sources[0]?.id;
    assertOption(
      sourceId !== undefined && bridge.sources.some((s) => s.id === sourceId),
      `--whip-push-source: no source ${String(sourceId)}`,
    );
    const push = new WhipPushOutput(bridge.feed(sourceId, 'h264'), {
      url,
      ...(options.whipPushToken === undefined ? {} : { token: options.whipPushToken }),
      ...(options.iceAddresses === undefined ? {} : { iceAddresses: options.iceAddresses }),
      ...(options.iceServers === undefined ? {} : { iceServers: options.iceServers }),
    });
    // The bridge reports it in /metrics and closes it on shutdown.
    bridge.attach(push);
    push.start();
  }
  if (options.janusUrl !== undefined) {
    for (const source of bridge.sources) {
      const output = new JanusOutput(bridge.feed(source.id, 'h264'), {
        url: options.janusUrl,
        ...(options.janusSecret === undefined ? {} : { apiSecret: options.janusSecret }),
      });
      // The bridge reports it in /health and /metrics and closes it on shutdown.
      bridge.attach(output);
      output.start();
    }
  }
  if (options.shmName !== undefined) {
    const [first] = bridge.sources;
    assertOption(first, '--shm needs a source');
    const buffer = new ShmFrameBuffer({ name: options.shmName });
    const raw = feedEmitter(bridge, first.id, 'BGR24');
    buffer.attach({
      on: (event, listener) =>
        raw.on(event, ({ frame }) => {
          if (isRawFrame(frame)) listener({ frame });
        }),
    });
    started.push(buffer);
  }
  return started;
}
