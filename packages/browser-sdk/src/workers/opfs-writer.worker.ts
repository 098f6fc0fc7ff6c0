/*
 * Writes a recording into the origin-private file system through synchronous access handles, which write in
 * place (a main-thread writable stream only commits on close, so a crash would lose everything). Beside the
 * file, a small journal records how many bytes hold complete fragments; `Recorder.recover()` reads it.
 */
import type { OpfsWriterRequest, OpfsWriterResponse, RecordingJournal } from '../outputs/opfs-writer-messages.js';

interface SyncAccessHandle {
  write(buffer: BufferSource, options?: { at?: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
interface OpfsWriterScope {
  postMessage(message: OpfsWriterResponse): void;
  onmessage: ((event: MessageEvent<OpfsWriterRequest>) => void) | null;
}
const scope = self as unknown as OpfsWriterScope;

let folder: FileSystemDirectoryHandle | undefined;
let file: SyncAccessHandle | undefined;
let journalFile: SyncAccessHandle | undefined;
let journal: RecordingJournal | undefined;
let writtenEnd = 0;
let pendingSafe = 0;

async function syncHandle(dir: FileSystemDirectoryHandle, name: string): Promise<SyncAccessHandle> {
  const handle = (await dir.getFileHandle(name, { create: true })) as FileSystemFileHandle & {
    createSyncAccessHandle(): Promise<SyncAccessHandle>;
  };
  return handle.createSyncAccessHandle();
}

function writeJournal(): void {
  if (!journalFile || !journal) return;
  const bytes = new TextEncoder().encode(JSON.stringify(journal));
  journalFile.truncate(0);
  journalFile.write(bytes, { at: 0 });
  journalFile.flush();
}

function commitSafe(): void {
  if (!file || !journal || pendingSafe <= journal.safeBytes || writtenEnd < pendingSafe) return;
  file.flush();
  journal.safeBytes = pendingSafe;
  writeJournal();
}

function closeAll(): void {
  file?.close();
  journalFile?.close();
  file = undefined;
  journalFile = undefined;
}

async function handle(message: OpfsWriterRequest): Promise<void> {
  switch (message.type) {
    case 'open': {
      const root = await navigator.storage.getDirectory();
      folder = await root.getDirectoryHandle(message.folder, { create: true });
      journal = message.journal;
      file = await syncHandle(folder, journal.name);
      file.truncate(0);
      journalFile = await syncHandle(folder, `${journal.name}.journal.json`);
      writeJournal();
      break;
    }
    case 'write':
      if (!file) throw new Error('write before open');
      file.write(message.data as Uint8Array<ArrayBuffer>, { at: message.position });
      writtenEnd = Math.max(writtenEnd, message.position + message.data.byteLength);
      commitSafe();
      break;
    case 'checkpoint':
      pendingSafe = Math.max(pendingSafe, message.safeBytes);
      commitSafe();
      break;
    case 'finish':
      file?.flush();
      closeAll();
      if (folder && journal) await folder.removeEntry(`${journal.name}.journal.json`);
      break;
    case 'abort':
      closeAll();
      if (folder && journal) {
        await folder.removeEntry(`${journal.name}.journal.json`).catch(() => undefined);
        await folder.removeEntry(journal.name).catch(() => undefined);
      }
      break;
  }
}

// Requests run one after the other, in the order they were sent.
let queue = Promise.resolve();
scope.onmessage = (event: MessageEvent<OpfsWriterRequest>) => {
  const message = event.data;
  queue = queue.then(() =>
    handle(message).then(
      () => scope.postMessage({ type: 'done', id: message.id, error: undefined }),
      (error: unknown) => scope.postMessage({ type: 'done', id: message.id, error: String(error) }),
    ),
  );
};
