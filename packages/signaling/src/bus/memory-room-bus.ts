import type { BusEvent, BusHandler, PeerRecord, RoomBus } from './room-bus.js';

/** A {@link RoomBus} inside one process: the default when no Redis is configured. */
export class MemoryRoomBus implements RoomBus {
  readonly #rooms = new Map<string, Map<string, PeerRecord>>();
  readonly #subscribed = new Set<string>();
  #handler: BusHandler = () => undefined;

  /** @inheritdoc */
  addPeer(room: string, record: PeerRecord, maxPeers: number): Promise<boolean> {
    let members = this.#rooms.get(room);
    if (!members) {
      members = new Map();
      this.#rooms.set(room, members);
    }
    if (!members.has(record.info.peerId) && members.size >= maxPeers) return Promise.resolve(false);
    members.set(record.info.peerId, record);
    return Promise.resolve(true);
  }

  /** @inheritdoc */
  updatePeer(room: string, record: PeerRecord): Promise<void> {
    const members = this.#rooms.get(room);
    if (members?.has(record.info.peerId)) members.set(record.info.peerId, record);
    return Promise.resolve();
  }

  /** @inheritdoc */
  removePeer(room: string, peerId: string): Promise<boolean> {
    const members = this.#rooms.get(room);
    const removed = members?.delete(peerId) ?? false;
    if (members?.size === 0) this.#rooms.delete(room);
    return Promise.resolve(removed);
  }

  /** @inheritdoc */
  getPeer(room: string, peerId: string): Promise<PeerRecord | undefined> {
    return Promise.resolve(this.#rooms.get(room)?.get(peerId));
  }

  /** @inheritdoc */
  listPeers(room: string): Promise<PeerRecord[]> {
    return Promise.resolve([...(this.#rooms.get(room)?.values() ?? [])]);
  }

  /** @inheritdoc */
  publish(room: string, event: BusEvent): Promise<void> {
    // Asynchronous like a real bus, so that callers never re-enter themselves.
    if (this.#subscribed.has(room)) queueMicrotask(() => this.#handler(room, event));
    return Promise.resolve();
  }

  /** @inheritdoc */
  subscribe(room: string): Promise<void> {
    this.#subscribed.add(room);
    return Promise.resolve();
  }

  /** @inheritdoc */
  unsubscribe(room: string): Promise<void> {
    this.#subscribed.delete(room);
    return Promise.resolve();
  }

  /** @inheritdoc */
  registerNode(): Promise<void> {
    return Promise.resolve();
  }

  /** @inheritdoc */
  unregisterNode(): Promise<void> {
    return Promise.resolve();
  }

  /** @inheritdoc */
  reap(room: string, _self: string, nowMs: number): Promise<string[]> {
    const members = this.#rooms.get(room);
    const removed: string[] = [];
    for (const [peerId, record] of members ?? []) {
      if (record.awayUntilMs !== undefined && record.awayUntilMs <= nowMs) {
        members?.delete(peerId);
        removed.push(peerId);
      }
    }
    if (members?.size === 0) this.#rooms.delete(room);
    return Promise.resolve(removed);
  }

  /** @inheritdoc One process: no other process can die. */
  roomsOfDeadNodes(): Promise<string[]> {
    return Promise.resolve([]);
  }

  /** @inheritdoc */
  onEvent(handler: BusHandler): void {
    this.#handler = handler;
  }

  /** @inheritdoc */
  close(): Promise<void> {
    this.#subscribed.clear();
    return Promise.resolve();
  }
}
