import { FramewireError } from '@framewire/core';
import {
  EMPTY_PAYLOAD,
  encodePeerMessage,
  fromPayload,
  fromWireError,
  toPayload,
  toWireError,
  type ReplyMessage,
  type RequestMessage,
} from './peer-message.js';
import type { PeerMesh } from './peer-mesh.js';

/** A request handler: its result (or what it resolves to) is the reply; a throw is a failed reply. */
export type RequestHandler = (data: unknown, from: string) => unknown;

/**
 * Request/reply between room peers: `request()` sends a request and waits for the reply with a timeout; `handle()`
 * answers the requests of a topic. A handler's failure travels back as its error code.
 */
export class RequestReply {
  readonly #mesh: PeerMesh;
  readonly #nextId: () => number;
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: FramewireError) => void }>();

  /** @param mesh the room's links; @param nextId the room's id counter (request ids). */
  constructor(mesh: PeerMesh, nextId: () => number) {
    this.#mesh = mesh;
    this.#nextId = nextId;
  }

  /**
   * Sends a request to peer `to` and resolves with its reply. Rejects with `FW_ERR_TIMEOUT` after `timeoutMs`, the
   * handler's error code when it threw, `FW_ERR_PEER_NOT_FOUND` for an unknown peer.
   */
  async request(to: string, topic: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const link = this.#mesh.linkOrThrow(to);
    const id = this.#nextId();
    const payload = toPayload(data);
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new FramewireError('FW_ERR_TIMEOUT', `no reply to ${topic} from ${to} within ${timeoutMs} ms`, {
            stage: 'request',
          }),
        );
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    try {
      await link.send(encodePeerMessage({ type: 'request', id, topic, payload }));
    } catch (error) {
      this.#pending.get(id)?.reject(error as FramewireError);
      this.#pending.delete(id);
    }
    return reply;
  }

  /** Answers requests on `topic` with what `handler` returns (or resolves to). Returns the unsubscribe function. */
  handle(topic: string, handler: RequestHandler): () => void {
    this.#handlers.set(topic, handler);
    return () => {
      if (this.#handlers.get(topic) === handler) this.#handlers.delete(topic);
    };
  }

  /** Runs the handler of a request from `from` and sends its reply (`FW_ERR_PEER_NOT_FOUND` without a handler). */
  async onRequest(from: string, request: RequestMessage): Promise<void> {
    const handler = this.#handlers.get(request.topic);
    const reply: ReplyMessage = { type: 'reply', re: request.id, topic: request.topic, payload: EMPTY_PAYLOAD };
    if (!handler) reply.err = { code: 'FW_ERR_PEER_NOT_FOUND', message: `no handler for ${request.topic}` };
    else {
      try {
        reply.payload = toPayload(await handler(fromPayload(request.payload), from));
      } catch (error) {
        reply.err = toWireError(error);
      }
    }
    await this.#mesh
      .get(from)
      ?.send(encodePeerMessage(reply))
      .catch(() => undefined);
  }

  /** Settles the request a reply answers (a reply to nothing pending is ignored). */
  onReply(reply: ReplyMessage): void {
    const pending = this.#pending.get(reply.re);
    this.#pending.delete(reply.re);
    if (!pending) return;
    if (reply.err) {
      pending.reject(fromWireError(reply.err));
      return;
    }
    try {
      pending.resolve(fromPayload(reply.payload));
    } catch (error) {
      pending.reject(error as FramewireError);
    }
  }

  /** Rejects every pending request with `FW_ERR_CLOSED`. */
  close(): void {
    for (const pending of this.#pending.values())
      pending.reject(new FramewireError('FW_ERR_CLOSED', 'the room was closed'));
    this.#pending.clear();
  }
}
