/// <reference path="./types/globals.d.ts" />
/** The bridge version (replaced at build time from package.json; `0.0.0-dev` when running from source). */
export const VERSION: string = typeof __FRAMEWIRE_VERSION__ === 'string' ? __FRAMEWIRE_VERSION__ : '0.0.0-dev';
