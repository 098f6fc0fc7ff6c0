/** The Recordings page: the bridge's recordings (`--record`), listed from `GET /recordings` and played in a <video>. */
import { $ } from './dom.js';

/** What the page uses of an entry of the bridge's `GET /recordings` (docs/guides/recording-on-the-bridge.md). */
interface RecordingListEntry {
  name: string;
  sourceId: string;
  startMs: number;
  endMs: number;
  bytes: number;
  state: 'finished' | 'recording';
  url: string;
}

/** `12.3 MB` */
const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Lists the recordings of the bridge at `bridgeUrl` in the page, newest first; a click plays one. */
export async function showRecordings(bridgeUrl: string): Promise<void> {
  const list = $('recordings-list', HTMLUListElement);
  const status = $('recordings-status', HTMLOutputElement);
  const player = $('recordings-player', HTMLVideoElement);
  let recordings: RecordingListEntry[];
  try {
    const response = await fetch(new URL('/recordings', bridgeUrl), { cache: 'no-store' });
    if (response.status === 404) {
      status.value = 'The bridge does not record: start it with --record <dir>.';
      status.dataset['state'] = 'off';
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    recordings = ((await response.json()) as { recordings: RecordingListEntry[] }).recordings;
  } catch (failure) {
    status.value = `Recordings unavailable: ${String(failure)}`;
    status.dataset['state'] = 'failed';
    return;
  }
  list.replaceChildren(
    ...recordings.map((recording) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset['name'] = recording.name;
      button.dataset['state'] = recording.state;
      const seconds = Math.max(0, (recording.endMs - recording.startMs) / 1000);
      button.textContent = `${recording.sourceId} · ${new Date(recording.startMs).toLocaleString()} · ${seconds.toFixed(0)} s · ${megabytes(recording.bytes)}${recording.state === 'recording' ? ' · recording' : ''}`;
      button.addEventListener('click', () => {
        player.src = new URL(recording.url, bridgeUrl).href;
        player.dataset['name'] = recording.name;
        void player.play().catch(() => undefined);
      });
      item.append(button);
      return item;
    }),
  );
  status.value = `${recordings.length} recording${recordings.length === 1 ? '' : 's'}`;
  status.dataset['state'] = 'listed';
  status.dataset['count'] = String(recordings.length);
}
