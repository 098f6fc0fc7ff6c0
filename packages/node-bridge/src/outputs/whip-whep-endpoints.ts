import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLogger } from '@framewire/core';
import { HttpFailure, readRequestBody, sendFailure } from '@framewire/core/node';
import type { WebRtcIceServer, WebRtcOutput } from './webrtc-output.js';
import type { IpcDelivery } from '../webrtc/webrtc-ipc.js';
import { parseSdpFrag } from '../webrtc/trickle-ice-sdpfrag.js';

/** Options of {@link WhipWhepEndpoints}. */
export interface WhipWhepEndpointsOptions {
  /** `Access-Control-Allow-Origin` of every response. Default: `*`. */
  corsOrigin?: string;
  /**
   * The ICE servers announced to clients in `Link: <…>; rel="ice-server"` headers (RFC 9725 §4.6), TURN credentials
   * included, on `201` answers and on `OPTIONS` requests that carry the bridge's token (or when it has none); an
   * `OPTIONS` without the token gets the STUN servers only. Default: none.
   */
  iceServers?: WebRtcIceServer[];
  /** Largest accepted offer or PATCH body, in bytes (`413 FW_ERR_MESSAGE_TOO_LARGE` above). Default: 65536. */
  maxBodyBytes?: number;
}

/** A session created through an endpoint: which endpoint, its entity tag and the client's ICE user fragment. */
interface SessionRecord {
  kind: 'whip' | 'whep';
  etag: string;
  remoteUfrag: string | undefined;
}

const log = createLogger('whip-whep');
const SDP = 'application/sdp';
const SDPFRAG = 'application/trickle-ice-sdpfrag';
const ENDPOINT_METHODS = 'OPTIONS, POST, PATCH, DELETE';
const EXPOSED =
  'location, etag, link, accept-patch, accept-post, retry-after, content-type, access-control-allow-methods';
const PATH = /^(?:\/sources\/([\w.-]+))?\/(whep|whip)(?:\/([\w-]+))?$/;

/**
 * Standard WHIP (RFC 9725) and WHEP endpoints of the bridge, on its {@link WebRtcOutput}: `POST /whep` and
 * `/sources/<id>/whep` view a source (H.264 passthrough, or VP8 when the offer has no H.264; `?delivery=datachannel`
 * as on `/offer`), `POST /whip` publishes into the bridge. A `POST` takes only `application/sdp` and answers `201`
 * with the SDP answer, the session resource in `Location` (`<endpoint>/<session id>`), a strong `ETag`,
 * `Accept-Patch: application/trickle-ice-sdpfrag` and the ICE servers in `Link` headers. On the session resource,
 * `PATCH` with `application/trickle-ice-sdpfrag` adds trickled candidates (`204`) or, when the fragment carries a
 * new `ice-ufrag`/`ice-pwd` and `If-Match` (`*` or the ETag), restarts ICE (`200` with the bridge's fragment and a
 * new ETag; `422 FW_ERR_NOT_SUPPORTED` for the sessions of the VP8 worker); `DELETE` ends the session (`200`).
 * `OPTIONS` answers CORS preflights with `Accept-Post: application/sdp`, methods including `PATCH` (clients trickle
 * only then) and the ICE servers. `GET`, `HEAD` and `PUT` get `405`; there are no redirects.
 *
 * Refusals are JSON `{ "error": "FW_ERR_…", "message": … }`: 415 `FW_ERR_UNSUPPORTED_MEDIA_TYPE`, 400
 * `FW_ERR_SDP_INVALID` or `FW_ERR_CODEC_UNSUPPORTED`, 413 `FW_ERR_MESSAGE_TOO_LARGE`, 404 `FW_ERR_NOT_FOUND` (unknown
 * source or session), 412/428 `FW_ERR_PROTOCOL_VIOLATION` (ETag), 503 `FW_ERR_CAPACITY_REACHED`. Authentication
 * (the bridge's token) is checked by the bridge before these handlers run, except for `OPTIONS`.
 */
export class WhipWhepEndpoints {
  readonly #output: WebRtcOutput;
  readonly #sourceIds: () => string[];
  readonly #options: Required<WhipWhepEndpointsOptions>;
  readonly #sessions = new Map<string, SessionRecord>();

  /** Serves `output`'s sessions; `sourceIds()` lists the bridge's sources (the first is `/whep`'s). */
  constructor(output: WebRtcOutput, sourceIds: () => string[], options: WhipWhepEndpointsOptions = {}) {
    this.#output = output;
    this.#sourceIds = sourceIds;
    this.#options = { corsOrigin: '*', iceServers: [], maxBodyBytes: 64 * 1024, ...options };
    output.on('session', ({ session }) => {
      if (session.state === 'closed' || session.state === 'failed') this.#sessions.delete(session.id);
    });
  }

  /** True when `path` is a WHIP or WHEP endpoint or session resource (`/sources/<id>/whip` is not). */
  handles(path: string): boolean {
    const match = PATH.exec(path);
    return match !== null && !(match[1] !== undefined && match[2] === 'whip');
  }

  /**
   * Answers an `OPTIONS` request on a WHIP/WHEP path (a CORS preflight, or a client asking for the ICE servers);
   * `authorized` says whether it carried the bridge's token (TURN credentials are sent only then).
   */
  options(request: IncomingMessage, response: ServerResponse, authorized: boolean): void {
    const links = this.#links(authorized);
    response.writeHead(204, {
      'access-control-allow-origin': this.#options.corsOrigin,
      'access-control-allow-methods': ENDPOINT_METHODS,
      'access-control-allow-headers': 'authorization, content-type, if-match, etag',
      'access-control-expose-headers': EXPOSED,
      'access-control-max-age': '600',
      allow: ENDPOINT_METHODS,
      'accept-post': SDP,
      'accept-patch': SDPFRAG,
      'cache-control': 'no-store',
      ...(links.length > 0 ? { link: links } : {}),
    });
    response.end();
    log.debug(`OPTIONS ${request.url ?? ''}`);
  }

  /** Handles an authorized request on a WHIP/WHEP path; false when `path` is not one ({@link handles}). */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    const match = PATH.exec(path);
    if (!match || !this.handles(path)) return false;
    const [, sourceId, kind = 'whep', sessionId] = match;
    response.setHeader('access-control-allow-origin', this.#options.corsOrigin);
    response.setHeader('access-control-expose-headers', EXPOSED);
    try {
      if (sessionId === undefined) await this.#post(request, response, path, kind as 'whip' | 'whep', sourceId);
      else await this.#session(request, response, kind as 'whip' | 'whep', sessionId);
    } catch (error) {
      const failure =
        error instanceof HttpFailure
          ? error
          : new HttpFailure(500, 'FW_ERR_PROCESS_FAILED', (error as Error).message, { cause: error });
      // A replayed DELETE or a stray method is the client's business: logged quietly.
      const line = `${request.method ?? '?'} ${path}: ${failure.code}: ${failure.message}`;
      if (failure.status === 404 || failure.status === 405) log.debug(line);
      else log.warn(line);
      if (response.headersSent) {
        response.destroy();
        return true;
      }
      if (failure.status === 503) response.setHeader('retry-after', '1');
      // A refused body may be unread: the connection cannot carry another request.
      if (failure.status === 413 || failure.status === 415) response.setHeader('connection', 'close');
      sendFailure(response, failure);
    }
    return true;
  }

  async #post(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    kind: 'whip' | 'whep',
    requestedSource: string | undefined,
  ): Promise<void> {
    if (request.method !== 'POST') throw methodNotAllowed(response, 'POST, OPTIONS', 'POST an SDP offer');
    const ids = this.#sourceIds();
    const sourceId = requestedSource ?? ids[0] ?? '';
    if (kind === 'whep' && !ids.includes(sourceId))
      throw new HttpFailure(404, 'FW_ERR_NOT_FOUND', `no source ${sourceId}`, { stage: 'webrtc' });
    requireType(request, SDP);
    const delivery = new URL(request.url ?? '/', 'http://bridge').searchParams.get('delivery') ?? 'track';
    if (kind === 'whep' && delivery !== 'track' && delivery !== 'datachannel')
      throw new HttpFailure(400, 'FW_ERR_INVALID_OPTION', `delivery must be track or datachannel; got ${delivery}`);
    const offer = await readRequestBody(request, this.#options.maxBodyBytes);
    const answer = await this.#output.answerOffer(
      sourceId,
      kind === 'whip' ? 'publish' : 'view',
      (kind === 'whep' ? delivery : 'track') as IpcDelivery,
      offer,
    );
    const etag = newEtag();
    this.#sessions.set(answer.sessionId, { kind, etag, remoteUfrag: iceUfrag(offer) });
    const links = this.#links(true);
    response.writeHead(201, {
      'content-type': SDP,
      'content-length': Buffer.byteLength(answer.sdp),
      'cache-control': 'no-store',
      location: `${path}/${answer.sessionId}`,
      etag,
      'accept-patch': SDPFRAG,
      ...(links.length > 0 ? { link: links } : {}),
    });
    response.end(answer.sdp);
  }

  async #session(
    request: IncomingMessage,
    response: ServerResponse,
    kind: 'whip' | 'whep',
    sessionId: string,
  ): Promise<void> {
    const record = this.#sessions.get(sessionId);
    if (request.method !== 'PATCH' && request.method !== 'DELETE')
      throw methodNotAllowed(response, 'PATCH, DELETE, OPTIONS', 'PATCH trickles or restarts ICE, DELETE ends');
    if (record?.kind !== kind || !this.#output.hasSession(sessionId))
      throw new HttpFailure(404, 'FW_ERR_NOT_FOUND', `no session ${sessionId} (it ended, or never existed)`, {
        stage: 'webrtc',
      });
    if (request.method === 'DELETE') {
      // RFC 9725: ETags are ignored on DELETE.
      this.#sessions.delete(sessionId);
      this.#output.endSession(sessionId);
      response.writeHead(200, { 'cache-control': 'no-store', 'content-length': 0 });
      response.end();
      return;
    }
    requireType(request, SDPFRAG);
    const frag = parseSdpFrag(await readRequestBody(request, this.#options.maxBodyBytes));
    const ifMatch = request.headers['if-match'];
    if (ifMatch !== undefined && ifMatch.trim() !== '*' && ifMatch.trim() !== record.etag)
      throw new HttpFailure(412, 'FW_ERR_PROTOCOL_VIOLATION', `If-Match ${ifMatch} is not the session's ETag`, {
        stage: 'webrtc',
      });
    const restart = frag.ufrag !== undefined && frag.pwd !== undefined && frag.ufrag !== record.remoteUfrag;
    if (!restart) {
      await this.#output.addCandidates(sessionId, frag);
      response.writeHead(204, { 'cache-control': 'no-store' });
      response.end();
      return;
    }
    if (ifMatch === undefined)
      throw new HttpFailure(428, 'FW_ERR_PROTOCOL_VIOLATION', 'an ICE restart needs If-Match: * or the ETag', {
        stage: 'webrtc',
      });
    const fragment = await this.#output.restartIce(sessionId, frag);
    record.remoteUfrag = frag.ufrag;
    record.etag = newEtag();
    response.writeHead(200, {
      'content-type': SDPFRAG,
      'content-length': Buffer.byteLength(fragment),
      'cache-control': 'no-store',
      etag: record.etag,
    });
    response.end(fragment);
  }

  /** `Link` header values for the ICE servers; without `credentials`, the STUN servers only. */
  #links(credentials: boolean): string[] {
    const links: string[] = [];
    for (const server of this.#options.iceServers) {
      for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
        const turn = /^turns?:/.test(url);
        if (turn && !credentials) continue;
        let link = `<${url}>; rel="ice-server"`;
        if (turn && server.username !== undefined && server.credential !== undefined)
          link += `; username="${server.username}"; credential="${server.credential}"; credential-type="password"`;
        links.push(link);
      }
    }
    return links;
  }
}

/** Refuses (415 `FW_ERR_UNSUPPORTED_MEDIA_TYPE`) a request whose content type is not `type`. */
function requireType(request: IncomingMessage, type: string): void {
  const given = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (given !== type)
    throw new HttpFailure(
      415,
      'FW_ERR_UNSUPPORTED_MEDIA_TYPE',
      `the body must be ${type}; got ${given === '' ? 'no content type' : given}`,
      { stage: 'webrtc' },
    );
}

function methodNotAllowed(response: ServerResponse, allow: string, message: string): HttpFailure {
  response.setHeader('allow', allow);
  return new HttpFailure(405, 'FW_ERR_PROTOCOL_VIOLATION', `method not allowed: ${message}`, { stage: 'webrtc' });
}

/** A new strong entity tag. */
function newEtag(): string {
  return `"${randomBytes(12).toString('hex')}"`;
}

/** The first `a=ice-ufrag` of an SDP. */
function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}
