/** One encoded audio packet as it travels inside the bridge, beside the video frames of its source. */
export interface AudioPacket {
  /** The codec: always `opus` (the bridge encodes every source's audio to Opus once). */
  codec: 'opus';
  /** One Opus packet (RFC 6716): what an RTP payload (RFC 7587) or a WebCodecs `EncodedAudioChunk` carries. */
  data: Buffer;
  /** Presentation time of its first sample since the audio started, in µs. */
  timestampUs: number;
  /** Its duration, in µs (20 000 for the bridge's own 20 ms frames). */
  durationUs: number;
  /**
   * Capture wall-clock time of its first sample, in ms since the Unix epoch: the same clock as the video frames'
   * `captureTimeMs`, so that the two can be played in sync.
   */
  captureTimeMs: number;
}

/** What a source's audio is: codec, clock rate and channels (the Opus header's values). */
export interface AudioInfo {
  /** Always `opus`. */
  codec: 'opus';
  /** Always 48000 (Opus's RTP clock, RFC 7587). */
  sampleRate: 48000;
  /** 1 (mono) or 2 (stereo). */
  channels: number;
}
