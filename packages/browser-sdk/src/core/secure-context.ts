import { FramewireError } from '@framewire/core';

/**
 * Throws `FW_ERR_INSECURE_CONTEXT` when this page is not a secure context (`globalThis.isSecureContext === false`:
 * http:// from a name other than localhost), where browsers hide WebCodecs, getUserMedia, Service Workers and OPFS.
 * `feature` names what needed them (e.g. `BridgeSource`); `stage` is the error's stage. Does nothing elsewhere,
 * including runtimes without `isSecureContext` (Node).
 */
export function assertSecureContext(feature: string, stage: string): void {
  if ((globalThis as { isSecureContext?: boolean }).isSecureContext !== false) return;
  throw new FramewireError(
    'FW_ERR_INSECURE_CONTEXT',
    `${feature}: ${location.origin} is not a secure context, so WebCodecs and getUserMedia are hidden. Use https (framewire-bridge tls) or localhost.`,
    { fatal: true, stage },
  );
}
