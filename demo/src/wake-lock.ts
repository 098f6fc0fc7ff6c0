/**
 * Keeps the screen on: the Screen Wake Lock API, taken again whenever the page becomes visible (the browser
 * releases it on hide); where that API is missing or refused, a muted, looping 1×1 video keeps playing, which
 * most browsers also treat as "do not sleep". Resolves with the method in use.
 */
export async function keepScreenAwake(): Promise<'wake-lock' | 'video'> {
  /** The lock held now (`<body data-wake-lock="held">`); the browser releases it when the page is hidden. */
  let sentinel: WakeLockSentinel | undefined;
  const request = async (): Promise<boolean> => {
    if (sentinel && !sentinel.released) return true;
    try {
      sentinel = await navigator.wakeLock.request('screen');
      document.body.dataset['wakeLock'] = 'held';
      sentinel.addEventListener('release', () => (document.body.dataset['wakeLock'] = 'released'), { once: true });
      return true;
    } catch {
      return false;
    }
  };
  if ('wakeLock' in navigator && (await request())) {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void request();
    });
    return 'wake-lock';
  }
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const context = canvas.getContext('2d');
  const video = document.createElement('video');
  video.dataset['wakeFallback'] = '';
  Object.assign(video, { muted: true, loop: true, playsInline: true, srcObject: canvas.captureStream(1) });
  video.style.cssText = 'position:fixed;width:1px;height:1px;opacity:0;pointer-events:none';
  document.body.append(video);
  // A changing pixel keeps the stream, and so the video, alive.
  setInterval(() => {
    if (!context) return;
    context.fillStyle = context.fillStyle === '#000000' ? '#010101' : '#000000';
    context.fillRect(0, 0, 1, 1);
  }, 1000);
  await video.play().catch(() => undefined);
  return 'video';
}
