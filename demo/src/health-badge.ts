/** Polls `<baseUrl>/health` every `intervalMs` and shows `up`/`down` in `badge` (its `data-state` too). */
export function watchHealth(badge: HTMLElement, baseUrl: string, intervalMs = 3000): void {
  const check = async (): Promise<void> => {
    try {
      const response = await fetch(new URL('/health', baseUrl), { cache: 'no-store' });
      const body = (await response.json()) as { status?: string; version?: string };
      badge.textContent = `${body.status ?? 'unknown'} (v${body.version ?? '?'})`;
      badge.dataset['state'] = response.ok ? 'ok' : 'down';
    } catch {
      badge.textContent = 'unreachable';
      badge.dataset['state'] = 'down';
    }
  };
  void check();
  setInterval(() => void check(), intervalMs);
}
