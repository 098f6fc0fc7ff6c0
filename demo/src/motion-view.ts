/**
 * The bridge page's motion badge and event list: the bridge's `GET /events` (Server-Sent Events of motion
 * detection, CLI `--motion`) read with `EventSource`. Without motion detection the badge says so.
 */

/** A motion event as the bridge sends it (the fields the page shows). */
interface MotionEvent {
  type: 'motion-start' | 'motion-end';
  source: string;
  timeMs: number;
  area: number;
}

/** Most events kept in the list. */
const MAX_LISTED = 8;

/** Shows `motion` or `quiet` in `badge` (and `data-state` `motion`/`quiet`/`off`) and the latest events in `list`. */
export async function startMotionView(bridgeUrl: string, badge: HTMLElement, list: HTMLOListElement): Promise<void> {
  try {
    const health = (await (await fetch(new URL('/health', bridgeUrl), { cache: 'no-store' })).json()) as {
      motion?: { sources: { active: boolean }[] };
    };
    if (!health.motion) {
      badge.textContent = 'off (start the bridge with --motion)';
      badge.dataset['state'] = 'off';
      return;
    }
  } catch {
    badge.textContent = 'bridge unreachable';
    badge.dataset['state'] = 'off';
    return;
  }
  badge.textContent = 'quiet';
  badge.dataset['state'] = 'quiet';
  const events = new EventSource(new URL('/events', bridgeUrl));
  const show = (message: MessageEvent<string>): void => {
    const event = JSON.parse(message.data) as MotionEvent;
    const moving = event.type === 'motion-start';
    badge.textContent = moving ? `motion on ${event.source}` : 'quiet';
    badge.dataset['state'] = moving ? 'motion' : 'quiet';
    const item = document.createElement('li');
    item.dataset['type'] = event.type;
    const time = new Date(event.timeMs).toLocaleTimeString();
    item.textContent = `${time} ${event.source}: ${moving ? 'motion' : 'quiet again'} (${(event.area * 100).toFixed(1)}% of the picture)`;
    list.prepend(item);
    while (list.children.length > MAX_LISTED) list.lastElementChild?.remove();
  };
  events.addEventListener('motion-start', show);
  events.addEventListener('motion-end', show);
}
