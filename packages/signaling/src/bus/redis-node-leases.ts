import type { Redis } from 'ioredis';
import { createLogger } from '@framewire/core';

const log = createLogger('signaling:redis');

/**
 * The liveness of signaling processes sharing one Redis, and where their peers are, so that a crash leaves no ghost:
 *
 * - `<prefix>node:<id>`: a lease each process renews every third of its TTL (`SET … PX ttl`); it expires on its own
 *   when the process dies without shutting down (SIGKILL, power loss).
 * - `<prefix>nodes`: every process that registered and still has members somewhere.
 * - `<prefix>node-rooms:<id>`: the rooms where process `<id>` has members (it forgets a room its last peer left).
 *
 * A survivor asks {@link RedisNodeLeases.roomsOfDeadNodes} on its sweep and reaps those rooms, so the dead process's
 * peers leave every room within the TTL, the resume grace and a sweep period, even rooms no survivor has peers in.
 */
export class RedisNodeLeases {
  readonly #redis: Redis;
  readonly #prefix: string;
  /** Lease renewers by node id. */
  readonly #renewers = new Map<string, ReturnType<typeof setInterval>>();
  /** Rooms already written to each local node's index (one SADD per room, not one per join). */
  readonly #indexed = new Map<string, Set<string>>();

  /** @param redis the command connection. @param prefix of every key. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** The lease key of `node`. */
  leaseKey(node: string): string {
    return `${this.#prefix}node:${node}`;
  }

  #roomsKey(node: string): string {
    return `${this.#prefix}node-rooms:${node}`;
  }

  /** Takes the lease of `node` now and renews it every `ttlMs / 3` until {@link RedisNodeLeases.unregister}. */
  async register(node: string, ttlMs: number): Promise<void> {
    const renew = (): Promise<unknown> => this.#redis.set(this.leaseKey(node), String(Date.now()), 'PX', ttlMs);
    await renew();
    await this.#redis.sadd(`${this.#prefix}nodes`, node);
    clearInterval(this.#renewers.get(node));
    const timer = setInterval(
      () => {
        renew().catch((error: unknown) => log.warn('liveness refresh failed', { error }));
      },
      Math.max(50, Math.floor(ttlMs / 3)),
    );
    timer.unref();
    this.#renewers.set(node, timer);
  }

  /**
   * Gives the lease of `node` up (a graceful shutdown: its peers were marked away, resumable elsewhere). Its room
   * index stays until the survivors have reaped those peers.
   */
  async unregister(node: string): Promise<void> {
    clearInterval(this.#renewers.get(node));
    this.#renewers.delete(node);
    this.#indexed.delete(node);
    await this.#redis.del(this.leaseKey(node));
  }

  /** Notes that `node` has members in `room`. */
  async noteRoom(node: string, room: string): Promise<void> {
    let rooms = this.#indexed.get(node);
    if (!rooms) {
      rooms = new Set();
      this.#indexed.set(node, rooms);
    }
    if (rooms.has(room)) return;
    rooms.add(room);
    await this.#redis.sadd(this.#roomsKey(node), room);
  }

  /**
   * Notes that the local nodes have no members left in `room` (the process stopped following it), so that the index
   * of a long-running process does not keep every room it ever served.
   */
  async forgetRoom(room: string): Promise<void> {
    // Every SREM is sent before this returns to the event loop: a join that follows sends its SADD after them on the
    // same connection, so Redis never ends up without a room that has members.
    const removals: Promise<unknown>[] = [];
    for (const [node, rooms] of this.#indexed) {
      if (rooms.delete(room)) removals.push(this.#redis.srem(this.#roomsKey(node), room));
    }
    await Promise.all(removals);
  }

  /** The nodes among `nodes` whose lease is gone. */
  async dead(nodes: string[]): Promise<Set<string>> {
    if (nodes.length === 0) return new Set();
    const alive = await this.#redis.mget(nodes.map((node) => this.leaseKey(node)));
    return new Set(nodes.filter((_, i) => alive[i] === null));
  }

  /**
   * The rooms of registered nodes (other than `self`) whose lease is gone. `holds(node, room)` says whether a room
   * still has members of that node: rooms that do not are dropped from its index, and a node with an empty index
   * is forgotten.
   */
  async roomsOfDeadNodes(self: string, holds: (node: string, room: string) => Promise<boolean>): Promise<string[]> {
    const nodes = (await this.#redis.smembers(`${this.#prefix}nodes`)).filter((node) => node !== self);
    const rooms = new Set<string>();
    for (const node of await this.dead(nodes)) {
      const indexed = await this.#redis.smembers(this.#roomsKey(node));
      let left = 0;
      for (const room of indexed) {
        if (await holds(node, room)) {
          rooms.add(room);
          left++;
        } else {
          await this.#redis.srem(this.#roomsKey(node), room);
        }
      }
      if (left === 0) {
        await this.#redis.srem(`${this.#prefix}nodes`, node);
        log.info('a crashed process has no peers left', { node });
      }
    }
    return [...rooms];
  }

  /** Stops renewing every lease (the connection is closing). */
  stop(): void {
    for (const timer of this.#renewers.values()) clearInterval(timer);
    this.#renewers.clear();
  }
}
