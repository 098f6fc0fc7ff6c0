import { FramewireError, assertOption, mqttClientError, validateMqttTopicAndTiming } from '@framewire/core';
import { loadMqtt, type MqttJsClient, type MqttJsConnectOptions } from '../core/mqtt-loader.js';

/** Broker connection options shared by {@link MqttSource} and {@link MqttOutput}. */
export interface MqttBrokerOptions {
  /** The broker's MQTT-over-WebSocket URL, `ws://host:port/path` or `wss://…`. Required. */
  url: string;
  /** The stream id in the topic `<topicPrefix>/<streamId>/frame`. Required. */
  streamId: string;
  /** Topic prefix. Default: `framewire`. */
  topicPrefix?: string;
  /** User name for the broker. Default: none (anonymous). */
  username?: string;
  /** Password for the broker. Default: none. */
  password?: string;
  /** MQTT client id. Default: `framewire-` and random hex. */
  clientId?: string;
  /** Delay between reconnection attempts, in ms. Default: 1000. */
  reconnectPeriodMs?: number;
  /** Time to wait for the connection (and the first CONNACK), in ms. Default: 10000. */
  connectTimeoutMs?: number;
}

/** Validates the shared options; throws `FW_ERR_INVALID_OPTION` naming the option. */
export function validateBrokerOptions(options: MqttBrokerOptions): void {
  assertOption(
    typeof options.url === 'string' && /^wss?:\/\/./.test(options.url),
    'options.url must be a ws:// or wss:// URL',
  );
  assertOption(
    typeof options.streamId === 'string' && /^[^/#+]+$/.test(options.streamId),
    'options.streamId must be a non-empty topic level without / # +',
  );
  validateMqttTopicAndTiming(options);
}

/**
 * Loads mqtt.js, connects, and resolves once connected. Rejects with `FW_ERR_MQTT_REFUSED` (bad credentials),
 * `FW_ERR_NETWORK_FAILED` (no broker within `connectTimeoutMs`) or `FW_ERR_LAZY_LOAD_FAILED`. After that,
 * `onError` receives one non-fatal `FW_ERR_NETWORK_FAILED` per outage (mqtt.js reconnects) or a fatal refusal.
 */
export async function connectBroker(
  options: MqttBrokerOptions,
  onError: (error: FramewireError) => void,
): Promise<MqttJsClient> {
  const mqtt = await loadMqtt();
  const connectOptions: MqttJsConnectOptions = {
    clientId: options.clientId ?? `framewire-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
    protocolVersion: 4,
  };
  if (options.username !== undefined) connectOptions.username = options.username;
  if (options.password !== undefined) connectOptions.password = options.password;
  const client = mqtt.connect(options.url, connectOptions);
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let opened = false;
  let outage = false;
  return new Promise<MqttJsClient>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(
        new FramewireError('FW_ERR_NETWORK_FAILED', `No MQTT broker at ${options.url} within ${timeoutMs} ms`, {
          fatal: true,
          stage: 'mqtt',
        }),
      );
    }, timeoutMs);
    const report = (error: unknown): void => {
      const fw = mqttClientError(error, options.url);
      if (fw.fatal) client.end(true);
      if (!opened) {
        if (!fw.fatal) return; // keep trying until the timeout
        clearTimeout(timer);
        reject(fw);
        return;
      }
      if (!fw.fatal && outage) return;
      outage = true;
      onError(fw);
    };
    client.on('connect', () => {
      outage = false;
      if (opened) return;
      opened = true;
      clearTimeout(timer);
      resolve(client);
    });
    client.on('error', report);
    client.on('offline', () => report(new Error('connection lost; reconnecting')));
  });
}
