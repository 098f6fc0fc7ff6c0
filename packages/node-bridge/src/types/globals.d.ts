/** Defined by the build (rollup `define`): the package version; undefined when running from source. */
declare const __FRAMEWIRE_VERSION__: string | undefined;
