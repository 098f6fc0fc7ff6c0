import { createLogger } from '@framewire/core';
import { RECORDINGS_FOLDER } from './opfs-recording-writer.js';
import type { RecordingJournal } from './opfs-writer-messages.js';

const log = createLogger('recorder');

/** A recording that `Recorder.recover()` finalized after an interrupted session. */
export interface RecoveredRecording {
  /** The file name in the OPFS recordings folder. */
  name: string;
  /** `mp4`, `webm` or `mkv`. */
  container: string;
  /** The recovered file. */
  handle: FileSystemFileHandle;
  /** Its size in bytes: the complete fragments that reached the disk. */
  bytes: number;
  /** When the interrupted recording started, ms since the Unix epoch. */
  startedAtMs: number;
}

/**
 * Cuts every journaled recording in the OPFS recordings folder after its last complete fragment and removes its
 * journal. Files still locked by a recording in progress (another tab) are skipped; recordings without a single
 * complete fragment are deleted.
 */
export async function recoverRecordings(): Promise<RecoveredRecording[]> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- absent outside secure contexts
  if (!navigator.storage?.getDirectory) return [];
  const root = await navigator.storage.getDirectory();
  let folder: FileSystemDirectoryHandle;
  try {
    folder = await root.getDirectoryHandle(RECORDINGS_FOLDER);
  } catch {
    return [];
  }
  const recovered: RecoveredRecording[] = [];
  const names: string[] = [];
  for await (const name of (folder as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> }).keys()) {
    if (name.endsWith('.journal.json')) names.push(name);
  }
  for (const journalName of names) {
    try {
      const journalHandle = await folder.getFileHandle(journalName);
      const journal = JSON.parse(await (await journalHandle.getFile()).text()) as RecordingJournal;
      const handle = await folder.getFileHandle(journal.name, { create: true });
      // Opening for writing fails while another tab's recording holds the file: that one is not interrupted.
      const writable = await handle.createWritable({ keepExistingData: true });
      if (journal.safeBytes > 0) {
        await writable.truncate(journal.safeBytes);
        await writable.close();
      } else {
        await writable.abort();
      }
      await folder.removeEntry(journalName);
      if (journal.safeBytes === 0) {
        await folder.removeEntry(journal.name);
        continue;
      }
      recovered.push({
        name: journal.name,
        container: journal.container,
        handle,
        bytes: journal.safeBytes,
        startedAtMs: journal.startedAtMs,
      });
    } catch (error) {
      log.info(`not recovering ${journalName}`, { error });
    }
  }
  return recovered;
}
