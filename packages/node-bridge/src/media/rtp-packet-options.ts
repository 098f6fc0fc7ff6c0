import { assertOption } from '@framewire/core';

/** The RTP header without CSRCs or extensions, in bytes. */
export const RTP_HEADER_BYTES = 12;

/**
 * Validates the options every RTP packetizer of the bridge shares and applies their defaults: the largest packet
 * (`maxPacketBytes`, 64–65535, default 1200: safe on any path) and the payload type (0–127, default 96). Throws
 * `FW_ERR_INVALID_OPTION`, naming the option.
 */
export function rtpPacketOptions(options: { maxPacketBytes?: number | undefined; payloadType?: number | undefined }): {
  maxPacketBytes: number;
  payloadType: number;
} {
  const maxPacketBytes = options.maxPacketBytes ?? 1200;
  assertOption(
    Number.isInteger(maxPacketBytes) && maxPacketBytes >= 64 && maxPacketBytes <= 65_535,
    `maxPacketBytes must be an integer from 64 to 65535; got ${maxPacketBytes}`,
  );
  const payloadType = options.payloadType ?? 96;
  assertOption(
    Number.isInteger(payloadType) && payloadType >= 0 && payloadType <= 127,
    `payloadType must be an integer from 0 to 127; got ${payloadType}`,
  );
  return { maxPacketBytes, payloadType };
}
