/** Options of {@link registerServiceWorker}. */
export interface RegisterOptions {
  /** Has the worker cache OpenCV.js (about 11 MB) in the background, for the stabilization page offline. Default: false. */
  precacheOpenCv?: boolean;
}

/**
 * Registers the demo's Service Worker (offline shell, `/packaged/` files) and resolves once it controls the page;
 * resolves `false` where Service Workers are unavailable (plain http on a LAN address, for one).
 */
export async function registerServiceWorker(options: RegisterOptions = {}): Promise<boolean> {
  if (!('serviceWorker' in navigator)) return false;
  try {
    await navigator.serviceWorker.register(new URL('../service-worker.js', import.meta.url), {
      scope: new URL('../', import.meta.url).href,
    });
    await navigator.serviceWorker.ready;
  } catch (error) {
    console.warn('framewire demo: the Service Worker did not register', error);
    return false;
  }
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
    );
  }
  document.documentElement.dataset['offlineReady'] = 'true';
  if (options.precacheOpenCv) {
    // The worker caches OpenCV.js in the background and says when it has (`<html data-open-cv-cached>`).
    navigator.serviceWorker.addEventListener('message', (event: MessageEvent<{ type?: string; ok?: boolean }>) => {
      if (event.data.type === 'precached') document.documentElement.dataset['openCvCached'] = String(event.data.ok);
    });
    navigator.serviceWorker.controller?.postMessage({ type: 'precache' });
  }
  return true;
}
