/** Shows the sections whose `data-route` matches the URL's hash (default `fallback`) and marks the nav link. */
export function startRouter(fallback: string, onShow: (route: string) => void): void {
  const show = (): void => {
    const wanted = location.hash.slice(1);
    const routes = new Set([...document.querySelectorAll<HTMLElement>('[data-route]')].map((s) => s.dataset['route']));
    const route = routes.has(wanted) ? wanted : fallback;
    for (const section of document.querySelectorAll<HTMLElement>('[data-route]')) {
      section.hidden = section.dataset['route'] !== route;
    }
    for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a[href^="#"]')) {
      if (link.hash === `#${route}`) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.body.dataset['route'] = route;
    onShow(route);
  };
  addEventListener('hashchange', show);
  show();
}
