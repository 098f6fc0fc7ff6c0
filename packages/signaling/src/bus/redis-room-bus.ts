import { Redis } from 'ioredis';
import { FramewireError, createLogger } from '@framewire/core';
import { RedisNodeLeases } from './redis-node-leases.js';
import type { BusEvent, BusHandler, PeerRecord, RoomBus } from './room-bus.js';

const log = createLogger('signaling:redis');

/** Adds a member unless the room is full, atomically across processes. KEYS[1] room hash; ARGV id, record, max. */
const ADD_PEER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;
/** Replaces a member only if present. */
const UPDATE_PEER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

/** Replaces a member only if its record is still `ARGV[2]` (compare and set). */
const REPLACE_IF = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end
return 0`;
/** Removes a member only if its record is still `ARGV[2]`: a peer that resumed meanwhile stays. */
const REMOVE_IF = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) return 1 end
return 0`;

/** Options of {@link RedisRoomBus}. */
export interface RedisRoomBusOptions {
  /** A `redis://host:port/db` URL. */
  url: string;
  /** Prefix of every key and channel. Default: `framewire:`. */
  prefix?: string;
}

/**
 * A {@link RoomBus} shared by several signaling processes through Redis: each room is a hash of its members
 * (`<prefix>room:<room>`), and its events travel on the pub/sub channel of the same name. Each process also holds a
 * lease (`<prefix>node:<id>`) and the list of its rooms, so that the others clean up after it when it crashes.
 */
export class RedisRoomBus implements RoomBus {
  readonly #command: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  #handler: BusHandler = () => undefined;
  #closing: Promise<void> | undefined;
  readonly #leases: RedisNodeLeases;

  private constructor(command: Redis, subscriber: Redis, prefix: string) {
    this.#command = command;
    this.#subscriber = subscriber;
    this.#prefix = prefix;
    this.#leases = new RedisNodeLeases(command, prefix);
    subscriber.on('message', (channel: string, text: string) => {
      if (!channel.startsWith(`${prefix}room:`)) return;
      let event: BusEvent;
      try {
        event = JSON.parse(text) as BusEvent;
      } catch {
        log.warn('dropped a malformed bus message', { channel });
        return;
      }
      this.#handler(channel.slice(prefix.length + 5), event);
    });
  }

  /** Connects both Redis connections; rejects with `FW_ERR_SIGNALING_FAILED` when Redis cannot be reached. */
  static async open(options: RedisRoomBusOptions): Promise<RedisRoomBus> {
    const make = (): Redis =>
      new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true });
    const command = make();
    const subscriber = make();
    for (const client of [command, subscriber]) {
      client.on('error', (error: Error) => log.warn(`redis: ${error.message}`));
    }
    try {
      await Promise.all([command.connect(), subscriber.connect()]);
    } catch (error) {
      command.disconnect();
      subscriber.disconnect();
      throw new FramewireError('FW_ERR_SIGNALING_FAILED', `Cannot connect to Redis at ${options.url}`, {
        cause: error,
        fatal: true,
        stage: 'bus',
      });
    }
    return new RedisRoomBus(command, subscriber, options.prefix ?? 'framewire:');
  }
  /**
   * The same as {@link RedisRoomBus.open}.
   * @deprecated Use `RedisRoomBus.open()` (one construction verb: `open` for everything that connects;
   * docs/guides/names.md). Kept for one release.
   */
  static connect(options: RedisRoomBusOptions): Promise<RedisRoomBus> {
    return RedisRoomBus.open(options);
  }

  #key(room: string): string {
    return `${this.#prefix}room:${room}`;
  }

  /** @inheritdoc Each process holds a key `<prefix>node:<id>` that expires `ttlMs` after its last refresh. */
  registerNode(node: string, ttlMs: number): Promise<void> {
    return this.#leases.register(node, ttlMs);
  }

  /** @inheritdoc */
  unregisterNode(node: string): Promise<void> {
    return this.#leases.unregister(node);
  }

  /** @inheritdoc */
  roomsOfDeadNodes(self: string): Promise<string[]> {
    return this.#leases.roomsOfDeadNodes(self, async (node, room) =>
      (await this.#command.hvals(this.#key(room))).some((text) => (JSON.parse(text) as PeerRecord).node === node),
    );
  }

  /** @inheritdoc */
  async reap(room: string, self: string, nowMs: number, graceMs: number): Promise<string[]> {
    const key = this.#key(room);
    const members = Object.entries(await this.#command.hgetall(key)).map(
      ([peerId, text]) => [peerId, text, JSON.parse(text) as PeerRecord] as const,
    );
    const present = members.filter(([, , r]) => r.awayUntilMs === undefined && r.node !== self);
    const dead = await this.#leases.dead([...new Set(present.map(([, , r]) => r.node))]);
    const removed: string[] = [];
    for (const [peerId, text, record] of members) {
      const expired = record.awayUntilMs !== undefined && record.awayUntilMs <= nowMs;
      const orphan = record.awayUntilMs === undefined && dead.has(record.node);
      if (expired || (orphan && graceMs === 0)) {
        if ((await this.#command.eval(REMOVE_IF, 1, key, peerId, text)) === 1) removed.push(peerId);
      } else if (orphan) {
        // Its process crashed without marking it away: it may still resume elsewhere within the grace period.
        const away: PeerRecord = { ...record, awayUntilMs: nowMs + graceMs };
        await this.#command.eval(REPLACE_IF, 1, key, peerId, text, JSON.stringify(away));
      }
    }
    if (dead.size > 0) log.info('found peers of crashed processes', { room, nodes: [...dead] });
    return removed;
  }

  /** @inheritdoc */
  async addPeer(room: string, record: PeerRecord, maxPeers: number): Promise<boolean> {
    await this.#leases.noteRoom(record.node, room);
    const added = await this.#command.eval(
      ADD_PEER,
      1,
      this.#key(room),
      record.info.peerId,
      JSON.stringify(record),
      maxPeers,
    );
    return added === 1;
  }

  /** @inheritdoc */
  async updatePeer(room: string, record: PeerRecord): Promise<void> {
    await this.#command.eval(UPDATE_PEER, 1, this.#key(room), record.info.peerId, JSON.stringify(record));
  }

  /** @inheritdoc */
  async removePeer(room: string, peerId: string): Promise<boolean> {
    return (await this.#command.hdel(this.#key(room), peerId)) === 1;
  }

  /** @inheritdoc */
  async getPeer(room: string, peerId: string): Promise<PeerRecord | undefined> {
    const text = await this.#command.hget(this.#key(room), peerId);
    return text === null ? undefined : (JSON.parse(text) as PeerRecord);
  }

  /** @inheritdoc */
  async listPeers(room: string): Promise<PeerRecord[]> {
    const all = await this.#command.hvals(this.#key(room));
    return all.map((text) => JSON.parse(text) as PeerRecord);
  }

  /** @inheritdoc */
  async publish(room: string, event: BusEvent): Promise<void> {
    await this.#command.publish(this.#key(room), JSON.stringify(event));
  }

  /** @inheritdoc */
  async subscribe(room: string): Promise<void> {
    await this.#subscriber.subscribe(this.#key(room));
  }

  /** @inheritdoc */
  async unsubscribe(room: string): Promise<void> {
    // The server unsubscribes once none of its peers is left in the room: the room leaves its index (first, so that
    // a join arriving meanwhile indexes it again after this).
    const forgetting = this.#leases.forgetRoom(room);
    await this.#subscriber.unsubscribe(this.#key(room));
    await forgetting;
  }

  /** @inheritdoc */
  onEvent(handler: BusHandler): void {
    this.#handler = handler;
  }

  /** @inheritdoc */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#leases.stop();
      await Promise.allSettled([this.#command.quit(), this.#subscriber.quit()]);
    })();
    return this.#closing;
  }
}
