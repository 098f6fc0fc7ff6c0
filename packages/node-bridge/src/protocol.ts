/*
 * The bridge's wire protocol, published as `@framewire/node-bridge/protocol`: isomorphic types, constants and
 * codecs shared with the browser SDK (no DOM, no `node:`). It is defined in `@framewire/core` (bridge-protocol.ts),
 * below both the SDK and the bridge, so that the package graph has no cycle; rollup bundles it into this entry.
 */
export * from '@framewire/core/bridge-protocol';
