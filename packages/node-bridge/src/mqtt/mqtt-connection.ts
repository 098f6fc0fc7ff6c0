import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { assertOption, mqttClientError, validateMqttTopicAndTiming, type FramewireError } from '@framewire/core';

/** Broker connection options shared by {@link MqttOutput} and {@link MqttSource}. */
export interface MqttConnectionOptions {
  /** Broker URL: `mqtt://host:1883`, `mqtts://host:8883` (TLS), `ws://host/mqtt` or `wss://…`. Required. */
  url: string;
  /** Topic prefix; frames go to `<topicPrefix>/<streamId>/frame`. Default: `framewire`. */
  topicPrefix?: string;
  /** User name for the broker. Default: none (anonymous). */
  username?: string;
  /** Password for the broker. Default: none. */
  password?: string;
  /** TLS settings for `mqtts://` and `wss://` (CA, client certificate). Default: the system's CAs, verified. */
  tls?: {
    /** CA certificate(s), PEM. */
    ca?: string | Buffer;
    /** Client certificate, PEM. */
    cert?: string | Buffer;
    /** Client key, PEM. */
    key?: string | Buffer;
    /** Verify the broker's certificate. Default: `true`. */
    rejectUnauthorized?: boolean;
  };
  /** MQTT client id. Default: `framewire-` and random hex. */
  clientId?: string;
  /** Delay between reconnection attempts, in ms. Default: 1000. */
  reconnectPeriodMs?: number;
  /** Time to wait for the broker's CONNACK, in ms. Default: 10000. */
  connectTimeoutMs?: number;
}

/** Checks the shared connection options; throws `FW_ERR_INVALID_OPTION` naming the option. */
export function validateMqttConnection(options: MqttConnectionOptions): void {
  assertOption(
    typeof options.url === 'string' && /^(mqtts?|wss?):\/\/./.test(options.url),
    'options.url must be an mqtt://, mqtts://, ws:// or wss:// URL',
  );
  validateMqttTopicAndTiming(options);
}

/**
 * Connects an mqtt.js client with framewire's defaults (QoS 0 messages are never queued while offline, so a
 * reconnecting client does not flood the broker with stale frames). `onError` receives every failure mapped by
 * `mqttClientError`; after a fatal one (refused credentials) the client is ended and does not reconnect.
 */
export function connectMqtt(options: MqttConnectionOptions, onError: (error: FramewireError) => void): MqttClient {
  const client: IClientOptions = {
    clientId: options.clientId ?? `framewire-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
    protocolVersion: 4,
  };
  if (options.username !== undefined) client.username = options.username;
  if (options.password !== undefined) client.password = options.password;
  if (options.tls) Object.assign(client, options.tls);
  const mqtt = connect(options.url, client);
  // One non-fatal error per outage (mqtt.js keeps reconnecting); a refusal is fatal and ends the client.
  let outage = false;
  const report = (error: unknown): void => {
    const fw = mqttClientError(error, options.url);
    if (fw.fatal) mqtt.end(true);
    else if (outage) return;
    outage = true;
    onError(fw);
  };
  mqtt.on('connect', () => {
    outage = false;
  });
  mqtt.on('error', report);
  mqtt.on('offline', () => report(new Error('connection lost or refused; reconnecting')));
  return mqtt;
}
