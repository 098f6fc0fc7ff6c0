/** The Cache API cache that holds in-browser Packager output for the Service Worker to serve. */
export const PACKAGED_CACHE = 'framewire-packaged';
/** URL path prefix under which the Service Worker serves that cache: `/packaged/manifest.mpd`, … */
export const PACKAGED_PREFIX = '/packaged/';
