import type { MqttClient } from 'mqtt';
import { MQTT_DEFAULT_TOPIC_PREFIX, createLogger } from '@framewire/core';
import { connectMqtt, validateMqttConnection, type MqttConnectionOptions } from '../mqtt/mqtt-connection.js';
import type { BridgeMotionEvent } from '../protocol.js';

/** Options of {@link MotionMqttPublisher}: the broker connection (its `topicPrefix` too). */
export type MotionMqttPublisherOptions = MqttConnectionOptions;

/** Something that emits motion events (the bridge's {@link MotionMonitor}). */
export interface MotionEventEmitter {
  /** Subscribes to `start` or `end`; returns the unsubscribe function. */
  on(event: 'start' | 'end', listener: (event: BridgeMotionEvent) => void): () => void;
}

const log = createLogger('motion-mqtt');

/** The topic of a source's motion events: `<topicPrefix>/<sourceId>/motion`. */
export function mqttMotionTopic(topicPrefix: string, sourceId: string): string {
  return `${topicPrefix.replace(/\/+$/, '')}/${sourceId}/motion`;
}

/**
 * Publishes every motion event to MQTT as JSON ({@link BridgeMotionEvent}) on `<prefix>/<source id>/motion`, QoS 1,
 * not retained. Broker failures are logged and the client reconnects; they never stop the stream.
 */
export class MotionMqttPublisher {
  readonly #client: MqttClient;
  readonly #prefix: string;
  readonly #unsubscribe: (() => void)[];
  #closed = false;

  /** Connects to the broker and starts publishing `monitor`'s events. Throws `FW_ERR_INVALID_OPTION` for a bad URL. */
  constructor(monitor: MotionEventEmitter, options: MotionMqttPublisherOptions) {
    validateMqttConnection(options);
    this.#prefix = options.topicPrefix ?? MQTT_DEFAULT_TOPIC_PREFIX;
    this.#client = connectMqtt(options, (error) => log.warn(error.message));
    const publish = (event: BridgeMotionEvent): void => {
      this.#client.publish(mqttMotionTopic(this.#prefix, event.source), JSON.stringify(event), { qos: 1 }, (error) => {
        if (error) log.warn(`motion event not published: ${error.message}`);
      });
    };
    this.#unsubscribe = [monitor.on('start', publish), monitor.on('end', publish)];
  }

  /** Stops publishing and disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    await new Promise<void>((resolve) => this.#client.end(false, {}, () => resolve()));
  }
}
