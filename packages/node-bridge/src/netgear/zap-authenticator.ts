import { Router } from 'zeromq';
import { createLogger } from '@framewire/core';

const log = createLogger('netgear-auth');
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * ZeroMQ's ZAP handler for the process (one per ZeroMQ context, so a singleton): sockets with a `zapDomain`
 * registered here accept only CURVE clients whose public key is listed (NetGear's IronHouse); any other domain is
 * accepted (StoneHouse: encryption without client authorisation).
 */
export class ZapAuthenticator {
  static #instance: ZapAuthenticator | undefined;
  readonly #router = new Router();
  readonly #domains = new Map<string, Set<string>>();
  #started: Promise<void> | undefined;

  private constructor() {
    // One per process: use ZapAuthenticator.shared().
  }

  #users = 0;

  /**
   * Registers a user of the process-wide authenticator (bound on first use) and allows only `publicKeys` (Z85)
   * on sockets whose `zapDomain` is `domain` (no rule when `domain` is undefined: StoneHouse). Returns the release
   * function; the handler closes when its last user releases it, so it never keeps the process alive.
   */
  static async acquire(domain?: string, publicKeys: string[] = []): Promise<() => void> {
    const instance = (ZapAuthenticator.#instance ??= new ZapAuthenticator());
    instance.#users++;
    if (domain !== undefined) instance.#domains.set(domain, new Set(publicKeys));
    await instance.#start();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (domain !== undefined) instance.#domains.delete(domain);
      if (--instance.#users === 0) {
        instance.#router.close();
        if (ZapAuthenticator.#instance === instance) ZapAuthenticator.#instance = undefined;
      }
    };
  }

  #start(): Promise<void> {
    this.#started ??= (async () => {
      // A handler released just before is still unbinding the inproc endpoint in ZeroMQ's I/O thread: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#router.bind(ZAP_ENDPOINT);
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 40) throw error;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
      void this.#serve();
    })();
    return this.#started;
  }

  async #serve(): Promise<void> {
    try {
      for await (const frames of this.#router) {
        // [routing id, '', version, request id, domain, address, identity, mechanism, credentials…]
        const [route, , version, requestId, domainBytes, address, , mechanism, key] = frames;
        const domain = domainBytes?.toString() ?? '';
        const allowed = this.#domains.get(domain);
        const clientKey = key?.length === 32 ? z85Encode(key) : '';
        const ok = !allowed || (mechanism?.toString() === 'CURVE' && allowed.has(clientKey));
        if (!ok) log.warn(`refused a CURVE client from ${address?.toString() ?? '?'} on ${domain}: key not authorised`);
        await this.#router.send([
          route ?? Buffer.alloc(0),
          Buffer.alloc(0),
          version ?? Buffer.from('1.0'),
          requestId ?? Buffer.alloc(0),
          ok ? '200' : '400',
          ok ? 'OK' : 'client key not authorised',
          ok ? clientKey : '',
          Buffer.alloc(0),
        ]);
      }
    } catch (error) {
      log.warn(`ZAP handler stopped: ${(error as Error).message}`);
    }
  }
}

const Z85_CHARS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85-encodes bytes whose length is a multiple of 4 (ZeroMQ's RFC 32). */
export function z85Encode(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let value =
      (((data[i] ?? 0) << 24) >>> 0) + ((data[i + 1] ?? 0) << 16) + ((data[i + 2] ?? 0) << 8) + (data[i + 3] ?? 0);
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = (Z85_CHARS[value % 85] ?? '') + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}
