import { FramewireError } from '@framewire/core';
import { startSdkWorker } from '../core/sdk-asset-urls.js';
import type { OpfsWriterRequest, OpfsWriterResponse, RecordingJournal } from './opfs-writer-messages.js';
import type { RecordingOutput, RecordingWriter, TargetChunk } from './recording-target.js';
import { assertSecureContext } from '../core/secure-context.js';

/** The OPFS folder recordings are written to. */
export const RECORDINGS_FOLDER = 'framewire-recordings';

type Request = OpfsWriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Writes a recording into an OPFS file through the `opfs-writer` Worker (synchronous access handles write in
 * place, so what was written survives a crash), keeping the journal `Recorder.recover()` reads.
 */
export class OpfsRecordingWriter implements RecordingWriter {
  /** @inheritdoc */
  readonly writable: WritableStream<TargetChunk>;
  readonly #worker: Worker;
  readonly #name: string;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: FramewireError) => void }>();
  #nextId = 0;

  private constructor(worker: Worker, name: string) {
    this.#worker = worker;
    this.#name = name;
    worker.onmessage = (event: MessageEvent<OpfsWriterResponse>) => {
      const { id, error } = event.data;
      const waiter = this.#pending.get(id);
      this.#pending.delete(id);
      if (error === undefined) waiter?.resolve();
      else waiter?.reject(writeFailed(`Writing ${name} to OPFS failed: ${error}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const failure = writeFailed(`The OPFS writer worker failed: ${event.message}`);
      for (const waiter of this.#pending.values()) waiter.reject(failure);
      this.#pending.clear();
    };
    this.writable = new WritableStream<TargetChunk>({
      write: (chunk) => this.#send({ type: 'write', data: chunk.data, position: chunk.position }),
    });
  }

  /** Creates (or replaces) `name` in the recordings folder. Rejects with `FW_ERR_WRITE_FAILED` or `FW_ERR_NOT_SUPPORTED`. */
  static async open(name: string, container: string): Promise<OpfsRecordingWriter> {
    assertSecureContext('Recorder', 'write');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- absent outside secure contexts
    if (!navigator.storage?.getDirectory) {
      throw new FramewireError('FW_ERR_NOT_SUPPORTED', 'The origin-private file system is not available', {
        fatal: true,
        stage: 'write',
      });
    }
    const worker = startSdkWorker(
      'opfs-writer.worker.js',
      'framewire-opfs',
      () =>
        new Worker(new URL('./workers/opfs-writer.worker.js', import.meta.url), {
          type: 'module',
          name: 'framewire-opfs',
        }),
    );
    const writer = new OpfsRecordingWriter(worker, name);
    const journal: RecordingJournal = { version: 1, name, container, startedAtMs: Date.now(), safeBytes: 0 };
    try {
      await writer.#send({ type: 'open', folder: RECORDINGS_FOLDER, journal });
    } catch (error) {
      worker.terminate();
      throw error;
    }
    return writer;
  }

  /** @inheritdoc */
  checkpoint(safeBytes: number): void {
    void this.#send({ type: 'checkpoint', safeBytes }).catch(() => undefined);
  }

  /** @inheritdoc */
  async finish(): Promise<RecordingOutput> {
    try {
      await this.#send({ type: 'finish' });
    } finally {
      this.#worker.terminate();
    }
    const root = await navigator.storage.getDirectory();
    const folder = await root.getDirectoryHandle(RECORDINGS_FOLDER);
    return folder.getFileHandle(this.#name);
  }

  /** @inheritdoc */
  async abort(): Promise<void> {
    await this.#send({ type: 'abort' }).catch(() => undefined);
    this.#worker.terminate();
  }

  #send(request: Request): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // The bytes are copied into the message: mediabunny may reuse its buffers after the write resolves.
      const message: OpfsWriterRequest = { ...request, id };
      this.#worker.postMessage(message);
    });
  }
}

function writeFailed(message: string): FramewireError {
  return new FramewireError('FW_ERR_WRITE_FAILED', message, { fatal: true, stage: 'write' });
}
