/** The page sections, one or more per route. (Not `[data-route]` alone: `<body>` carries the current route too.) */
const SECTIONS = 'main > section[data-route]';

/**
 * Shows the sections whose `data-route` matches the URL's hash (default `fallback`), marks the nav link and puts the
 * route on `<body data-route>`.
 */
export function startRouter(fallback: string, onShow: (route: string) => void): void {
  const show = (): void => {
    const wanted = location.hash.slice(1);
    const sections = [...document.querySelectorAll<HTMLElement>(SECTIONS)];
    const route = sections.some((s) => s.dataset['route'] === wanted) ? wanted : fallback;
    for (const section of sections) section.hidden = section.dataset['route'] !== route;
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
