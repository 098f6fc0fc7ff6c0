// ZMTP 3.0 (https://rfc.zeromq.org/spec/23/) framing: the greeting, commands and message frames that ZeroMQ peers
// exchange over TCP, as far as a receiving NULL-security socket needs them.

/** Bytes of a ZMTP 3 greeting. */
export const GREETING_BYTES = 64;

/** Flag bits of a frame's first byte. */
export const FLAG_MORE = 0x01;
/** The frame's size is 8 bytes (big-endian) instead of 1. */
export const FLAG_LONG = 0x02;
/** The frame is a command, not a message part. */
export const FLAG_COMMAND = 0x04;

/** Socket types the receiver speaks as, and which peer types may talk to each. */
export const PEER_TYPES = {
  PAIR: ['PAIR'],
  REP: ['REQ', 'DEALER'],
  SUB: ['PUB', 'XPUB'],
  PULL: ['PUSH'],
} as const;

/** A socket type of {@link PEER_TYPES}. */
export type ZmtpSocketType = keyof typeof PEER_TYPES;

/** Our greeting: version 3.0 (so that peers send subscriptions as messages), NULL mechanism, not a server. */
export function zmtpGreeting(): Buffer {
  const greeting = Buffer.alloc(GREETING_BYTES);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting[11] = 0;
  greeting.write('NULL', 12, 'latin1');
  return greeting;
}

/** What a peer's greeting says, or why it cannot be spoken to. */
export type ParsedGreeting = { ok: true; mechanism: string } | { ok: false; reason: string };

/** Checks a peer's 64-byte greeting: a ZMTP 3.x signature and the NULL mechanism. */
export function parseZmtpGreeting(greeting: Buffer): ParsedGreeting {
  if (greeting[0] !== 0xff || ((greeting[9] ?? 0) & 0x01) !== 1)
    return { ok: false, reason: 'the peer does not speak ZMTP (bad signature)' };
  if ((greeting[10] ?? 0) < 3) return { ok: false, reason: `the peer speaks ZMTP ${greeting[10]}, older than 3.0` };
  const mechanism = greeting.subarray(12, 32).toString('latin1').replace(/\0+$/, '');
  if (mechanism !== 'NULL')
    return { ok: false, reason: `the peer asks for ${mechanism} security; this receiver is not in a secure mode` };
  return { ok: true, mechanism };
}

/** Encodes one frame: `flags` plus the size, short or long, then the body. */
export function zmtpFrame(body: Buffer, flags: number): Buffer {
  if (body.length <= 255) {
    const head = Buffer.allocUnsafe(2);
    head[0] = flags;
    head[1] = body.length;
    return Buffer.concat([head, body]);
  }
  const head = Buffer.allocUnsafe(9);
  head[0] = flags | FLAG_LONG;
  head.writeBigUInt64BE(BigInt(body.length), 1);
  return Buffer.concat([head, body]);
}

/** Encodes a multipart message (every part but the last carries MORE). */
export function zmtpMessage(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts.map((part, i) => zmtpFrame(part, i < parts.length - 1 ? FLAG_MORE : 0)));
}

/** Encodes a command frame: `name` and its body (for READY: metadata properties). */
export function zmtpCommand(name: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  return zmtpFrame(Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, body]), FLAG_COMMAND);
}

/** The READY command announcing `socketType`. */
export function zmtpReady(socketType: ZmtpSocketType): Buffer {
  return zmtpCommand('READY', zmtpProperties({ 'Socket-Type': socketType }));
}

/** The ERROR command with a reason for the peer. */
export function zmtpError(reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 255), 'latin1');
  return zmtpCommand('ERROR', Buffer.concat([Buffer.from([text.length]), text]));
}

/** Encodes metadata properties (name length, name, 4-byte value length, value). */
function zmtpProperties(properties: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(properties).flatMap(([name, value]) => {
      const nameBytes = Buffer.from(name, 'latin1');
      const valueBytes = Buffer.from(value, 'latin1');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(valueBytes.length);
      return [Buffer.from([nameBytes.length]), nameBytes, length, valueBytes];
    }),
  );
}

/** A command's name and body, or undefined when its body is malformed. */
export function parseZmtpCommand(frame: Buffer): { name: string; body: Buffer } | undefined {
  const length = frame[0];
  if (length === undefined || frame.length < 1 + length) return undefined;
  return { name: frame.subarray(1, 1 + length).toString('latin1'), body: frame.subarray(1 + length) };
}

/** READY's metadata as a name → value map (names in lower case), or undefined when malformed. */
export function parseZmtpProperties(body: Buffer): Map<string, string> | undefined {
  const properties = new Map<string, string>();
  let offset = 0;
  while (offset < body.length) {
    const nameLength = body[offset] ?? 0;
    if (offset + 1 + nameLength + 4 > body.length) return undefined;
    const name = body
      .subarray(offset + 1, offset + 1 + nameLength)
      .toString('latin1')
      .toLowerCase();
    const valueLength = body.readUInt32BE(offset + 1 + nameLength);
    const start = offset + 1 + nameLength + 4;
    if (start + valueLength > body.length) return undefined;
    properties.set(name, body.subarray(start, start + valueLength).toString('latin1'));
    offset = start + valueLength;
  }
  return properties;
}
