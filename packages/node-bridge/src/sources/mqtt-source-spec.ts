import { MQTT_DEFAULT_TOPIC_PREFIX, assertOption } from '@framewire/core';
import { MqttSource, type MqttSourceOptions } from './mqtt-source.js';

const SPEC_SHAPE = 'mqtt://[user@]host[:port]/[<topic prefix>/]<stream id> (or mqtts://)';

/**
 * Makes an {@link MqttSource} from a command-line spec such as `mqtt://127.0.0.1:1883/framewire/cam1`: the broker
 * is the URL's origin, the last path level is the stream id and the levels before it are the topic prefix (default
 * `framewire`), so the source subscribes to `framewire/cam1/frame` (and `framewire/cam1/audio`), the topics another
 * bridge's `--mqtt-url` output publishes `cam1` to. A user name may come in the URL; the password comes from `password` (the CLI
 * passes `FRAMEWIRE_MQTT_PASSWORD`), never from the URL, so that it stays out of process listings.
 * Throws `FW_ERR_INVALID_OPTION` for any other shape.
 */
export function mqttSourceFromSpec(spec: string, id?: string, password?: string): MqttSource {
  let url: URL | undefined;
  try {
    url = new URL(spec);
  } catch {
    url = undefined;
  }
  assertOption(url && (url.protocol === 'mqtt:' || url.protocol === 'mqtts:'), `--source must look like ${SPEC_SHAPE}`);
  assertOption(url.hostname !== '', `--source ${spec} has no broker host; expected ${SPEC_SHAPE}`);
  assertOption(url.password === '', '--source mqtt:// must not carry a password: set FRAMEWIRE_MQTT_PASSWORD');
  const levels = url.pathname.split('/').filter((level) => level !== '');
  const streamId = levels.pop();
  assertOption(streamId !== undefined, `--source ${spec} names no stream; expected ${SPEC_SHAPE}`);
  const options: MqttSourceOptions = {
    url: `${url.protocol}//${url.host}`,
    streamId: decodeURIComponent(streamId),
    topicPrefix: levels.length > 0 ? levels.map(decodeURIComponent).join('/') : MQTT_DEFAULT_TOPIC_PREFIX,
  };
  if (id !== undefined) options.id = id;
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (password !== undefined) options.password = password;
  return new MqttSource(options);
}
