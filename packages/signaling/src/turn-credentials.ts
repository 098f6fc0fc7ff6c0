import { createHmac } from 'node:crypto';
import type { IceServer } from './protocol.js';

/** Settings of time-limited TURN credentials (coturn `use-auth-secret` / `static-auth-secret`). */
export interface TurnRestOptions {
  /** `turn:`/`turns:` URLs of the TURN server(s). */
  urls: string[];
  /** coturn's `static-auth-secret`. */
  secret: string;
  /** Credential lifetime in seconds. Default: 86400 (one day, as the TURN REST draft suggests). */
  ttlS?: number;
}

/**
 * Makes a TURN REST credential (draft-uberti-behave-turn-rest): username `<expiry unix s>:<user>`, password
 * base64(HMAC-SHA1(secret, username)). coturn started with `use-auth-secret` and the same `static-auth-secret`
 * accepts it until the expiry.
 */
export function turnRestCredentials(options: TurnRestOptions, user: string, nowMs = Date.now()): IceServer {
  const expiry = Math.floor(nowMs / 1000) + (options.ttlS ?? 86_400);
  // The colon separates expiry and user: keep it out of the user part.
  const username = `${expiry}:${user.replace(/:/g, '_')}`;
  const credential = createHmac('sha1', options.secret).update(username).digest('base64');
  return { urls: [...options.urls], username, credential };
}
