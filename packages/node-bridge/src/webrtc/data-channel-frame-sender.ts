import { findSps, h264FrameType } from '../media/h264.js';
import { WS_FRAME_FLAGS, chunkDataChannelMessage, encodeWsFrame, type WsConfigMessage } from '../protocol.js';
import type { IpcAccessUnit } from './webrtc-ipc.js';

/** The part of a (wrtc) `RTCDataChannel` the sender uses. */
export interface FrameDataChannel {
  /** `open` once messages can be sent. */
  readonly readyState: string;
  /** Bytes queued and not yet sent. */
  readonly bufferedAmount: number;
  /** Sends a text or binary message. */
  send(data: string | Uint8Array): void;
  /** Closes the channel. */
  close(): void;
}

/** A viewer whose channel holds more than this many unsent bytes skips to the next keyframe. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Sends a source's shared H.264 access units to one WebRTC viewer on its ordered, reliable `fw.h264` data channel,
 * in the bridge WebSocket's format (see `H264_DATA_CHANNEL_LABEL` in protocol.ts): a `config` text message before
 * the first keyframe and whenever it changes, then each access unit with its 24-byte header, cut into chunks. Like
 * the WebSocket output, a late joiner starts at a keyframe and a slow viewer (more than 1 MiB unsent) skips to the
 * next keyframe; the gap in the header's sequence tells it frames were skipped.
 */
export class DataChannelFrameSender {
  readonly #channel: FrameDataChannel;
  #needKey = true;
  #config = '';
  #sequence = 0;

  /** Sends on `channel`. */
  constructor(channel: FrameDataChannel) {
    this.#channel = channel;
  }

  /** Sends `unit` (or skips it, as above). */
  send(unit: IpcAccessUnit): void {
    const channel = this.#channel;
    if (channel.readyState !== 'open') return;
    let config: WsConfigMessage | undefined;
    if (unit.key) {
      const sps = findSps(unit.data);
      if (sps) config = { type: 'config', codec: sps.codec, codedWidth: sps.width, codedHeight: sps.height };
    }
    if (channel.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#needKey = true;
      this.#sequence++;
      return;
    }
    if (this.#needKey) {
      if (!unit.key || !config) {
        if (this.#sequence > 0) this.#sequence++;
        return;
      }
      this.#needKey = false;
    }
    const text = config && JSON.stringify(config);
    const message = encodeWsFrame(
      {
        flags: (unit.key ? WS_FRAME_FLAGS.key : 0) | (config ? WS_FRAME_FLAGS.config : 0),
        ...optionalFrameType(unit.data),
        sequence: this.#sequence++,
        timestampUs: unit.timestampUs,
        captureTimeMs: unit.captureTimeMs,
      },
      unit.data,
    );
    try {
      if (text && text !== this.#config) {
        channel.send(text);
        this.#config = text;
      }
      for (const chunk of chunkDataChannelMessage(message)) channel.send(chunk);
    } catch {
      // The channel closed while sending (wrtc updates its state on its own thread): the viewer is leaving, and
      // one that stays resumes at a keyframe.
      this.#needKey = true;
    }
  }

  /** Closes the channel. */
  close(): void {
    this.#channel.close();
  }
}

/** `{ frameType }` of an access unit when its first slice header tells, else `{}`. */
function optionalFrameType(data: Uint8Array): { frameType?: 'I' | 'P' | 'B' } {
  const frameType = h264FrameType(data);
  return frameType === undefined ? {} : { frameType };
}
