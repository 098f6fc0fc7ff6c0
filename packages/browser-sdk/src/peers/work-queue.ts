import { FramewireError, assertOption } from '@framewire/core';
import {
  encodePeerMessage,
  fromPayload,
  fromWireError,
  toPayload,
  toWireError,
  type AckMessage,
  type PeerPayload,
  type PullMessage,
  type PushMessage,
  type WireError,
} from './peer-message.js';
import type { PeerLink } from './peer-link.js';
import type { PeerMesh } from './peer-mesh.js';

/** A consumer's handler: runs once per item; its throw is the item's failure. */
export type PullHandler = (data: unknown, from: string) => unknown;

interface PushItem {
  id: number;
  topic: string;
  payload: PeerPayload;
  resolve: () => void;
  reject: (error: FramewireError) => void;
  timer: ReturnType<typeof setTimeout>;
  consumer?: string;
}

/**
 * The room's work queue (push/pull): `push()` hands each item to exactly one peer that `pull()`s its topic, round
 * robin over the consumers with credit (a consumer takes `prefetch` items at once); an item whose consumer leaves, or
 * stops pulling, before acknowledging goes to another consumer.
 */
export class WorkQueue {
  readonly #mesh: PeerMesh;
  readonly #nextId: () => number;
  readonly #pullers = new Map<string, { handler: PullHandler; prefetch: number }>();
  /** Per topic: the consumers' credits by peer id. */
  readonly #consumers = new Map<string, Map<string, number>>();
  readonly #queue: PushItem[] = [];
  readonly #inFlight = new Map<number, PushItem>();

  /** @param mesh the room's links; @param nextId the room's id counter (item ids). */
  constructor(mesh: PeerMesh, nextId: () => number) {
    this.#mesh = mesh;
    this.#nextId = nextId;
  }

  /**
   * Queues `data` for one consumer of `topic`; resolves once its handler finished, rejects with its error, or with
   * `FW_ERR_TIMEOUT` when no consumer finished it within `timeoutMs`.
   */
  push(topic: string, data: unknown, timeoutMs: number): Promise<void> {
    const payload = toPayload(data);
    return new Promise<void>((resolve, reject) => {
      const item: PushItem = {
        id: this.#nextId(),
        topic,
        payload,
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.#queue.indexOf(item);
          if (index >= 0) this.#queue.splice(index, 1);
          this.#inFlight.delete(item.id);
          reject(
            new FramewireError('FW_ERR_TIMEOUT', `no consumer finished ${topic} within ${timeoutMs} ms`, {
              stage: 'push',
            }),
          );
        }, timeoutMs),
      };
      this.#queue.push(item);
      this.#dispatch();
    });
  }

  /** Consumes `topic` with at most `prefetch` items at a time (an integer > 0). Returns the function that stops. */
  pull(topic: string, handler: PullHandler, prefetch: number): () => void {
    assertOption(Number.isInteger(prefetch) && prefetch > 0, 'options.prefetch must be an integer > 0');
    this.#pullers.set(topic, { handler, prefetch });
    for (const link of this.#mesh.openLinks()) this.#announce(link, topic, prefetch);
    return () => {
      this.#pullers.delete(topic);
      for (const link of this.#mesh.openLinks()) this.#announce(link, topic, 0);
    };
  }

  /** A link opened: tells that peer which topics this peer consumes. */
  announceTo(link: PeerLink): void {
    for (const [topic, { prefetch }] of this.#pullers) this.#announce(link, topic, prefetch);
  }

  /** A peer's credits for a topic changed. */
  onPull(from: string, pull: PullMessage): void {
    let consumers = this.#consumers.get(pull.topic);
    if (!consumers) {
      consumers = new Map();
      this.#consumers.set(pull.topic, consumers);
    }
    if (pull.credits > 0) consumers.set(from, pull.credits);
    else consumers.delete(from);
    this.#dispatch();
  }

  /** Runs this peer's handler on an item and acknowledges it (refused when this peer does not consume the topic). */
  async onPush(from: string, push: PushMessage): Promise<void> {
    const puller = this.#pullers.get(push.topic);
    let err: WireError | undefined;
    if (!puller) err = { code: 'FW_ERR_PEER_NOT_FOUND', message: `not consuming ${push.topic}` };
    else {
      try {
        await puller.handler(fromPayload(push.payload), from);
      } catch (error) {
        err = toWireError(error);
      }
    }
    const ack: AckMessage = { type: 'ack', re: push.id };
    if (err) ack.err = err;
    await this.#mesh
      .get(from)
      ?.send(encodePeerMessage(ack))
      .catch(() => undefined);
  }

  /** A consumer acknowledged an item: settle it, or re-queue it when the consumer stopped pulling. */
  onAck(ack: AckMessage): void {
    const item = this.#inFlight.get(ack.re);
    if (!item) return;
    this.#inFlight.delete(item.id);
    const consumers = this.#consumers.get(item.topic);
    if (item.consumer && consumers?.has(item.consumer))
      consumers.set(item.consumer, (consumers.get(item.consumer) ?? 0) + 1);
    if (ack.err?.code === 'FW_ERR_PEER_NOT_FOUND') {
      // That consumer stopped pulling: give the item to someone else.
      if (item.consumer) consumers?.delete(item.consumer);
      this.#queue.unshift(item);
    } else {
      clearTimeout(item.timer);
      if (ack.err) item.reject(fromWireError(ack.err));
      else item.resolve();
    }
    this.#dispatch();
  }

  /** A consumer went away: what it had not acknowledged goes back to the front of the queue. */
  forgetConsumer(peerId: string): void {
    for (const consumers of this.#consumers.values()) consumers.delete(peerId);
    const orphans = [...this.#inFlight.values()].filter((item) => item.consumer === peerId);
    for (const item of orphans) {
      this.#inFlight.delete(item.id);
      delete item.consumer;
    }
    this.#queue.unshift(...orphans);
    if (orphans.length > 0) this.#dispatch();
  }

  /** Rejects every queued and in-flight item with `FW_ERR_CLOSED`. */
  close(): void {
    for (const item of [...this.#queue, ...this.#inFlight.values()]) {
      clearTimeout(item.timer);
      item.reject(new FramewireError('FW_ERR_CLOSED', 'the room was closed'));
    }
  }

  #announce(link: PeerLink, topic: string, credits: number): void {
    void link.send(encodePeerMessage({ type: 'pull', topic, credits })).catch(() => undefined);
  }

  /** Sends queued items to consumers with credit, round robin. */
  #dispatch(): void {
    for (let i = 0; i < this.#queue.length;) {
      const item = this.#queue[i];
      if (!item) break;
      const consumers = this.#consumers.get(item.topic);
      const choice =
        consumers && [...consumers].find(([peerId, credits]) => credits > 0 && this.#mesh.get(peerId)?.open);
      if (!consumers || !choice) {
        i++;
        continue;
      }
      const [peerId, credits] = choice;
      // Round robin: the chosen consumer moves to the back.
      consumers.delete(peerId);
      consumers.set(peerId, credits - 1);
      this.#queue.splice(i, 1);
      item.consumer = peerId;
      this.#inFlight.set(item.id, item);
      const message = encodePeerMessage({ type: 'push', id: item.id, topic: item.topic, payload: item.payload });
      this.#mesh
        .get(peerId)
        ?.send(message)
        .catch(() => {
          this.#inFlight.delete(item.id);
          this.#queue.unshift(item);
        });
    }
  }
}
