/** A byte range a muxer wants written: mediabunny's `StreamTarget` chunk. */
export interface TargetChunk {
  type: 'write';
  data: Uint8Array;
  position: number;
}

/** Where a {@link Recorder} writes: see {@link RecorderOptions.target}. */
export type RecorderTarget =
  /** In memory; `finalize()` resolves with a `Blob`. */
  | 'blob'
  /**
   * A file of this name in the origin-private file system (folder `framewire-recordings`), written in place by
   * a Worker with a journal beside it: a crash loses at most the last fragment, and `Recorder.recover()`
   * finalizes what is left. `finalize()` resolves with the `FileSystemFileHandle`.
   */
  | { opfs: string }
  /** A file the user picked (`showSaveFilePicker()`); `finalize()` resolves with the same handle. */
  | { handle: FileSystemFileHandle }
  /**
   * Streams the recording to `upload` in HTTP POST requests as it is made (see {@link HttpUploadWriter} for the
   * protocol); `finalize()` resolves with an {@link UploadReceipt}.
   */
  | { upload: string | URL; headers?: Record<string, string>; chunkBytes?: number };

/** What an upload target's `finalize()` resolves with. */
export interface UploadReceipt {
  /** The upload URL. */
  url: string;
  /** The id sent with every request of this recording (`x-framewire-upload-id`). */
  uploadId: string;
  /** Total bytes of the recording. */
  bytes: number;
}

/** What `Recorder.finalize()` resolves with: a `Blob`, the target's file handle, or an upload receipt. */
export type RecordingOutput = Blob | FileSystemFileHandle | UploadReceipt;

/** The writing side of a recording target, driven by the {@link Recorder}. */
export interface RecordingWriter {
  /** The stream mediabunny's `StreamTarget` writes into. */
  readonly writable: WritableStream<TargetChunk>;
  /** Everything below `safeBytes` forms complete fragments: make it durable. */
  checkpoint(safeBytes: number): void;
  /** The muxer finished: make everything durable and resolve with the result. */
  finish(): Promise<RecordingOutput>;
  /** The recording is abandoned: release resources and remove partial output. */
  abort(): Promise<void>;
}
