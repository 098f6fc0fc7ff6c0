/** The journal kept beside a recording in OPFS, read by `Recorder.recover()`. */
export interface RecordingJournal {
  /** Format version of this journal. */
  version: 1;
  /** The recording's file name in the recordings folder. */
  name: string;
  /** `mp4`, `webm` or `mkv`. */
  container: string;
  /** When the recording started, ms since the Unix epoch. */
  startedAtMs: number;
  /** Bytes at the start of the file that hold complete fragments, safely on disk. */
  safeBytes: number;
}

/** Messages from the main thread to the OPFS writer worker; each gets one `done` answer with its `id`. */
export type OpfsWriterRequest =
  | { type: 'open'; id: number; folder: string; journal: RecordingJournal }
  | { type: 'write'; id: number; data: Uint8Array; position: number }
  /** Everything below `safeBytes` forms complete fragments: flush and record it once it is written. */
  | { type: 'checkpoint'; id: number; safeBytes: number }
  /** The recording is complete: flush, close, remove the journal. */
  | { type: 'finish'; id: number }
  /** The recording is abandoned: close and delete the file and its journal. */
  | { type: 'abort'; id: number };

/** The OPFS writer worker's answer to the request with the same `id`. */
export type OpfsWriterResponse = { type: 'done'; id: number; error: string | undefined };
