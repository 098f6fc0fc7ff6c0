import { webcrypto } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { FramewireError, assertOption } from '@framewire/core';
import { PEER_ROLES, ROOM_NAME, type TokenClaims, type TokenRequest } from './protocol.js';

/** The shortest HMAC secret accepted, in characters. */
export const MIN_SECRET_LENGTH = 16;
/** The longest token lifetime {@link TokenAuthority.issue} accepts, in seconds (30 days). */
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;

/**
 * Issues and checks signaling tokens: JWTs signed with HS256 and the server's HMAC secret, carrying the room, the
 * role and an expiry. Only HS256 is accepted when verifying (no `none`, no algorithm confusion).
 */
export class TokenAuthority {
  readonly #key: Uint8Array;
  /**
   * The secret imported once as a WebCrypto HMAC key: given the raw bytes, jose imports them again on every call
   * (an async import per join; bench/signaling-peers.bench.mjs measures the join rate).
   */
  #cryptoKey: Promise<webcrypto.CryptoKey> | undefined;

  /** @param secret the HMAC secret, at least {@link MIN_SECRET_LENGTH} characters. */
  constructor(secret: string) {
    assertOption(
      typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
      `secret must be a string of at least ${MIN_SECRET_LENGTH} characters`,
    );
    this.#key = new TextEncoder().encode(secret);
  }

  /** Signs a token for `request` (default lifetime 3600 s). Throws `FW_ERR_INVALID_OPTION` on a bad room/role/ttl. */
  async issue(request: TokenRequest): Promise<string> {
    const ttlS = request.ttlS ?? 3600;
    assertOption(typeof request.room === 'string' && ROOM_NAME.test(request.room), 'room must be a room name');
    assertOption(PEER_ROLES.includes(request.role), `role must be one of ${PEER_ROLES.join(', ')}`);
    assertOption(
      Number.isInteger(ttlS) && ttlS > 0 && ttlS <= MAX_TOKEN_TTL_S,
      `ttlS must be in 1..${MAX_TOKEN_TTL_S}`,
    );
    assertOption(request.sub === undefined || typeof request.sub === 'string', 'sub must be a string');
    const jwt = new SignJWT({ room: request.room, role: request.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS);
    if (request.sub !== undefined) jwt.setSubject(request.sub);
    return jwt.sign(await this.#hmacKey());
  }

  /**
   * Checks `token` and returns its claims with the expiry (ms since the epoch). Rejects with `FW_ERR_UNAUTHORIZED`
   * (reason in `details.reason`: `expired`, `invalid`) when the token is malformed, forged, expired or lacks claims.
   */
  async verify(token: string): Promise<TokenClaims & { expiresAtMs: number }> {
    try {
      const { payload } = await jwtVerify(token, await this.#hmacKey(), {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
      });
      const { room, role, sub, exp } = payload;
      if (typeof room !== 'string' || !ROOM_NAME.test(room) || !PEER_ROLES.includes(role as never)) {
        throw new FramewireError('FW_ERR_UNAUTHORIZED', 'The token lacks a valid room or role', {
          details: { reason: 'invalid' },
        });
      }
      const claims: TokenClaims & { expiresAtMs: number } = {
        room,
        role: role as TokenClaims['role'],
        expiresAtMs: (exp ?? 0) * 1000,
      };
      if (typeof sub === 'string') claims.sub = sub;
      return claims;
    } catch (error) {
      if (error instanceof FramewireError) throw error;
      const expired = error instanceof errors.JWTExpired;
      throw new FramewireError('FW_ERR_UNAUTHORIZED', expired ? 'The token has expired' : 'The token is not valid', {
        cause: error,
        stage: 'auth',
        details: { reason: expired ? 'expired' : 'invalid' },
      });
    }
  }

  #hmacKey(): Promise<webcrypto.CryptoKey> {
    this.#cryptoKey ??= webcrypto.subtle.importKey('raw', this.#key, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    return this.#cryptoKey;
  }
}
