import { lazyLoadError } from './lazy-modules.js';

/** The options of mqtt.js's `connect()` that framewire uses (a structural subset of mqtt.js's `IClientOptions`). */
export interface MqttJsConnectOptions {
  clientId?: string;
  username?: string;
  password?: string;
  reconnectPeriod?: number;
  connectTimeout?: number;
  queueQoSZero?: boolean;
  protocolVersion?: 4 | 5;
}

/** The part of an mqtt.js client framewire uses (structural, so the SDK's types do not depend on mqtt.js's). */
export interface MqttJsClient {
  readonly connected: boolean;
  on(event: 'connect' | 'offline' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'message', listener: (topic: string, payload: Uint8Array, packet: { retain: boolean }) => void): unknown;
  subscribe(topic: string | string[], options: { qos: 0 | 1 }, callback: (error?: Error | null) => void): unknown;
  publish(
    topic: string,
    payload: Uint8Array,
    options: { qos: 0 | 1; retain: boolean },
    callback: (error?: Error) => void,
  ): unknown;
  end(force: boolean, options: object, callback: () => void): unknown;
  end(force: boolean): unknown;
}

/** mqtt.js, as loaded by {@link loadMqtt}. */
export interface MqttJs {
  connect(url: string, options: MqttJsConnectOptions): MqttJsClient;
}

let mqtt: Promise<MqttJs> | undefined;

/**
 * Loads mqtt.js (MQTT over WebSocket) once, on first use; it is never part of the main bundle (`vendor/mqtt.mjs`
 * beside the `<script>` bundle). `MqttSource` and `MqttOutput` call it. Rejects with `FW_ERR_LAZY_LOAD_FAILED`.
 */
export function loadMqtt(): Promise<MqttJs> {
  mqtt ??= import('mqtt').then(
    (m: unknown) => {
      const module = m as Partial<MqttJs> & { default?: MqttJs };
      const api = typeof module.connect === 'function' ? (module as MqttJs) : module.default;
      if (!api || typeof api.connect !== 'function') throw new Error('mqtt.js has no connect()');
      return api;
    },
    (error: unknown) => {
      mqtt = undefined;
      throw lazyLoadError('mqtt.js', error);
    },
  );
  return mqtt;
}
