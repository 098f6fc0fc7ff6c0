/**
 * framewire's Node companion: serves sources a browser cannot open to browsers.
 * @packageDocumentation
 */
export { BridgeServer, type BridgeServerOptions, type MjpegOptions, type UpgradeEndpoint } from './bridge-server.js';
export { MjpegOutput, type MjpegOutputStats } from './outputs/mjpeg-output.js';
export type { OutputStats } from './outputs/output-stats.js';
export { WebSocketOutput, type WebSocketOutputOptions, type WebSocketOutputStats } from './outputs/websocket-output.js';
export {
  WebRtcOutput,
  type WebRtcFeedProvider,
  type WebRtcIceServer,
  type WebRtcOutputEvents,
  type WebRtcOutputOptions,
  type WebRtcOutputStats,
  type WebRtcSession,
  type WebRtcSessionMode,
} from './outputs/webrtc-output.js';
export type { PassthroughSession } from './webrtc/passthrough-viewers.js';
export type { RtpFanoutCodec } from './webrtc/rtp-fanout.js';
export { Vp8RtpPacketizer, type Vp8RtpFrame, type Vp8RtpPacketizerOptions } from './media/vp8-rtp-packetizer.js';
export {
  H264RtpPacketizer,
  type H264RtpAccessUnit,
  type H264RtpPacketizerOptions,
} from './media/h264-rtp-packetizer.js';
export { LoopbackStunServer } from './webrtc/loopback-stun-server.js';
export { offeredVideoCodecs, type OfferedH264, type OfferedVideoCodecs } from './webrtc/offer-video-codecs.js';
export { WebRtcPublishSource } from './sources/webrtc-publish-source.js';
export {
  WhipPushOutput,
  type WhipPushOutputEvents,
  type WhipPushOutputOptions,
  type WhipPushOutputStats,
  type WhipPushState,
} from './outputs/whip-push-output.js';
export { WhipWhepEndpoints, type WhipWhepEndpointsOptions } from './outputs/whip-whep-endpoints.js';
export { H264RtpDepacketizer, type DepacketizedAccessUnit } from './media/h264-rtp-depacketizer.js';
export { parseSdpFrag, formatSdpFrag, type SdpFrag, type SdpFragCandidate } from './webrtc/trickle-ice-sdpfrag.js';
export { RoomSource } from './sources/room-source.js';
export { RoomPeerSource } from './sources/room-peer-source.js';
export type { PeerFrame } from './sources/peer-frame.js';
export { BridgeRoomPeer, type BridgeRoomPeerOptions, type BridgeRoomPeerStats } from './peers/bridge-room-peer.js';
export {
  NodePeer,
  type I420Frame,
  type NodePeerEvents,
  type NodePeerOptions,
  type NodeVideoPublication,
  type PcmAudio,
  type WrtcModule,
} from './peers/node-peer.js';
export { StaticFiles, MIME_TYPES } from './http/static-files.js';
export {
  assertTlsOptions,
  formatPrometheus,
  readTlsFiles,
  type MetricFamily,
  type TlsOptions,
} from '@framewire/core/node';
export type { VideoSource, VideoSourceEvents } from './sources/video-source.js';
export { SourceBase } from './sources/source-base.js';
export { FfmpegSource, type FfmpegSourceOptions, type FfmpegSourceProbe } from './sources/ffmpeg-source.js';
export { probeMedia, type ProbeMediaOptions } from './process/probe-media.js';
export {
  h264PassthroughVerdict,
  opusPassthroughVerdict,
  parseProbeJson,
  type PassthroughVerdict,
  type ProbedAudio,
  type ProbedMedia,
  type ProbedVideo,
} from './media/probed-media.js';
export { ProcessSource, type ProcessSourceCommand } from './sources/process-source.js';
export { createTestPatternSource, type TestPatternSourceOptions } from './sources/test-pattern-source.js';
export { createUrlSource, urlInputArgs, urlProbeArgs, type UrlSourceOptions } from './sources/url-source.js';
export { createStreamSiteSource, type StreamSiteSourceOptions } from './sources/stream-site-source.js';
export { DEFAULT_STREAM_FORMAT, resolveStreamUrl, ytDlpArgs, type StreamResolveOptions } from './process/yt-dlp.js';
export { assertSafeVideoFilter } from './process/video-filter.js';
export {
  createV4l2Source,
  listV4l2Devices,
  listV4l2Formats,
  parseV4l2Formats,
  v4l2InputArgs,
  type V4l2Device,
  type V4l2Format,
  type V4l2SourceOptions,
} from './sources/v4l2-source.js';
export { PiCameraSource, piCameraArgs, type PiCameraSourceOptions } from './sources/pi-camera-source.js';
export {
  createSource,
  createSources,
  registerSourceKind,
  type SourceKindFactory,
  type SourceSpecOptions,
} from './sources/source-spec.js';
export {
  SupervisedProcess,
  type SupervisedProcessEvents,
  type SupervisedProcessOptions,
} from './process/supervised-process.js';
export type { H264EncodeOptions, Vp8EncodeOptions } from './process/ffmpeg-args.js';
export {
  FfmpegTranscoder,
  encoderCodec,
  type FeedFormat,
  type FfmpegTranscoderEvents,
  type FfmpegTranscoderOptions,
} from './pipeline/ffmpeg-transcoder.js';
export {
  FrameFeed,
  type FrameFeedEncoderStats,
  type FrameFeedEvents,
  type FrameFeedOptions,
} from './pipeline/frame-feed.js';
export type { EncodedFrame } from './media/encoded-frame.js';
export type { AudioInfo, AudioPacket } from './media/audio-packet.js';
export { OggOpusDemuxer, opusPacketSamples, type OggOpusHead, type OggOpusPacket } from './media/ogg-opus-demuxer.js';
export { OpusStreamReader } from './media/opus-stream-reader.js';
export { MediaStartClock } from './media/media-start-clock.js';
export { parseAudioSpec, type AudioSpec } from './process/audio-args.js';
export type { AudioInput, AudioInputEvents } from './sources/audio-input.js';
export {
  DeviceAudioCapture,
  deviceAudioCaptureArgs,
  type DeviceAudioCaptureOptions,
} from './sources/device-audio-capture.js';
export { FramePool, type PooledBuffer, type ReleaseFrame } from './media/frame-pool.js';
export { ffmpegPixelFormat, rawFrameBytes, type RawFrame, type RawPixelFormat } from './media/raw-frame.js';
export { frameFormat, isRawFrame, retainFrame, type SourceFrame } from './media/source-frame.js';
export { JpegStreamSplitter } from './media/jpeg-stream-splitter.js';
export { AnnexBSplitter, type AccessUnit } from './media/annex-b-splitter.js';
export { FlvH264Demuxer, type FlvH264Packet } from './media/flv-h264-demuxer.js';
export { findSps, isKeyAccessUnit, jpegSize, parseSps, splitNalUnits, type SpsInfo } from './media/h264.js';
export * from './protocol.js';
export {
  MqttOutput,
  type AudioPacketEmitter,
  type EncodedFrameEmitter,
  type MqttOutputEvents,
  type MqttOutputOptions,
  type MqttOutputStats,
} from './outputs/mqtt-output.js';
export type { MqttConnectionOptions } from './mqtt/mqtt-connection.js';
export { MqttWebSocketRelay, type MqttWebSocketRelayOptions } from './outputs/mqtt-websocket-relay.js';
export { MqttBroker, type MqttBrokerOptions } from './mqtt/mqtt-broker.js';
export { MqttSource, type MqttSourceEvents, type MqttSourceOptions } from './sources/mqtt-source.js';
export { mqttSourceFromSpec } from './sources/mqtt-source-spec.js';
export { ShmFrameBuffer, type ShmFrameBufferEvents, type ShmFrameBufferOptions } from './outputs/shm-frame-buffer.js';
export { SHM_LAYOUT, SHM_STATUS, type ShmStatus } from './media/shm-frame-layout.js';
export { ShmFrameReader, type ShmFrame, type ShmFrameReaderOptions } from './sources/shm-frame-reader.js';
export { RAW_PIXEL_FORMATS, type RawFrameEmitter } from './media/raw-frame.js';
export {
  JanusOutput,
  janusMountpointId,
  type JanusOutputEvents,
  type JanusOutputOptions,
  type JanusOutputStats,
} from './outputs/janus-output.js';
export {
  BRIDGE_PATHS,
  type BridgeHealth,
  type SourceHealth,
  type SourceState,
  type VideoFilterHealth,
} from './protocol.js';
export { FramewireError, ERROR_CODES, setLogLevel, type ErrorCode, type LogLevel } from '@framewire/core';
export { MQTT_FRAME, decodeMqttFrame, encodeMqttFrame, mqttFrameTopic, type MqttFrameMessage } from '@framewire/core';
export { VERSION } from './version.js';
export { NetGearSource, type NetGearEngine, type NetGearSourceOptions } from './sources/netgear-source.js';
export { netGearMultiServerSources, netGearSourcesFromSpec } from './sources/netgear-source-spec.js';
export { NetGearOutput, type NetGearOutputEvents, type NetGearOutputOptions } from './outputs/netgear-output.js';
export {
  curveCertificateText,
  netGearHeader,
  netGearRawFrame,
  parseNetGearAsyncMessage,
  parseNetGearMessage,
  pythonTypeName,
  readCurveCertificate,
  readCurvePublicKeys,
  type CurveKeyPair,
  type NetGearLimits,
  type NetGearMessage,
  type NetGearPattern,
} from './netgear/netgear-wire.js';
export {
  netGearAsyncReplyParts,
  netGearReplyParts,
  parseNetGearReply,
  type NetGearReply,
} from './netgear/netgear-reply.js';
export { ZapAuthenticator, z85Encode } from './netgear/zap-authenticator.js';
export { BridgeRecordings } from './recording/bridge-recordings.js';
export { BridgeRecorder, type BridgeRecorderOptions } from './recording/bridge-recorder.js';
export {
  RECORDING_DEFAULTS,
  type RecordingMode,
  type RecordingOptions,
  type ResolvedRecordingOptions,
} from './recording/recording-options.js';
export { RecordingStore, type RecordingFileInfo, type RecordingRetention } from './recording/recording-store.js';
export { RECORDINGS_PATH, RecordingsEndpoint, type RecordingListEntry } from './recording/recordings-endpoint.js';
export { parseRecordingName, recordingName } from './recording/recording-names.js';
export { MotionDetector, type MotionDetectorEvents } from './motion/motion-detector.js';
export { MotionMonitor, type GrayFrameFeed, type MotionMonitorEvents } from './motion/motion-monitor.js';
export {
  MOTION_DEFAULTS,
  parseMotionMask,
  type MotionDetectorOptions,
  type MotionMaskRect,
  type MotionOptions,
  type ResolvedMotionOptions,
} from './motion/motion-options.js';
export {
  MotionMqttPublisher,
  mqttMotionTopic,
  type MotionEventEmitter,
  type MotionMqttPublisherOptions,
} from './motion/motion-mqtt-publisher.js';
export type { BridgeMotionEvent, MotionBox, MotionHealth } from './protocol.js';
