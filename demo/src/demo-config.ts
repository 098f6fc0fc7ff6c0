/** Where the demo finds the services; served by the demo server as `/config.json`. */
export interface DemoConfig {
  /** Base URL of the Node bridge, e.g. `http://localhost:8090/`. */
  bridgeUrl: string;
  /** Base URL of the signaling server, e.g. `http://localhost:8443/`. */
  signalingUrl: string;
  /** Where the SDK's worker and vendor files are served. */
  sdkAssetsUrl: string;
  /** MQTT over WebSocket (the bridge's `/mqtt` relay to a broker), e.g. `ws://localhost:8090/mqtt`. Default: none. */
  mqttUrl?: string;
}

const defaults: DemoConfig = {
  bridgeUrl: `${location.protocol}//${location.hostname}:8090/`,
  signalingUrl: `${location.protocol}//${location.hostname}:8443/`,
  sdkAssetsUrl: new URL('/sdk/', location.href).href,
};

/** Loads `/config.json`, falling back to the default ports on this host. */
export async function loadDemoConfig(): Promise<DemoConfig> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) return defaults;
    return { ...defaults, ...((await response.json()) as Partial<DemoConfig>) };
  } catch {
    return defaults;
  }
}
