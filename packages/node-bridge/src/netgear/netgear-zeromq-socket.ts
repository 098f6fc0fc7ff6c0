import { join } from 'node:path';
import { Pair, Pull, Reply, Subscriber, type Socket } from 'zeromq';
import { readCurveCertificate, readCurvePublicKeys, type NetGearPattern } from './netgear-wire.js';
import { ZapAuthenticator } from './zap-authenticator.js';

/** What {@link openNetGearZeromqSocket} needs to know. */
export interface NetGearZeromqSocketOptions {
  /** The NetGear pattern: 0 PAIR, 1 REP, 2 SUB, 3 PULL. */
  pattern: NetGearPattern;
  /** The largest message accepted, in bytes (libzmq drops a peer that sends more). */
  maxMessageBytes: number;
  /** 0 off, 1 StoneHouse, 2 IronHouse. */
  secureMode: 0 | 1 | 2;
  /** vidgear's key folder (with `secureMode`). */
  keysDir?: string;
  /** Names the ZAP domain of an IronHouse socket. */
  domainName: string;
}

/**
 * A zeromq.js (libzmq) receiving socket for NetGear, not yet bound: the engine for CURVE secure modes and IPC,
 * which the built-in ZMTP receiver does not speak. Returns the socket and the function that drops its ZAP rule.
 */
export async function openNetGearZeromqSocket(
  options: NetGearZeromqSocketOptions,
): Promise<{ socket: Socket; removeZapRule: (() => void) | undefined }> {
  const { pattern } = options;
  const socket =
    pattern === 0 ? new Pair() : pattern === 1 ? new Reply() : pattern === 2 ? new Subscriber() : new Pull();
  socket.linger = 0;
  socket.maxMessageSize = options.maxMessageBytes;
  if (socket instanceof Subscriber) {
    socket.receiveHighWaterMark = 1;
    socket.subscribe();
  }
  let removeZapRule: (() => void) | undefined;
  if (options.secureMode > 0 && options.keysDir) {
    const server = await readCurveCertificate(join(options.keysDir, 'private_keys', 'server.key_secret'));
    socket.curveServer = true;
    socket.curvePublicKey = server.publicKey;
    socket.curveSecretKey = server.secretKey ?? '';
    if (options.secureMode === 2) {
      const keys = await readCurvePublicKeys(join(options.keysDir, 'public_keys'));
      socket.zapDomain = options.domainName;
      removeZapRule = await ZapAuthenticator.acquire(options.domainName, keys);
    } else removeZapRule = await ZapAuthenticator.acquire();
  }
  return { socket, removeZapRule };
}
