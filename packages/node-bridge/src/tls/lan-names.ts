import { isIP } from 'node:net';
import { assertOption } from '@framewire/core';

/** The names and addresses a LAN certificate is valid for (its subjectAltName). */
export interface LanNames {
  /** DNS names, e.g. `raspberrypi` and `raspberrypi.local`, lower case, without duplicates. */
  dns: string[];
  /** IPv4 or IPv6 addresses, e.g. `192.168.1.20`, without duplicates. */
  ips: string[];
}

// A host name label (RFC 1123): letters, digits and inner hyphens, 1–63 characters.
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** True when `name` is a DNS host name a certificate can carry (no wildcard, no IP, ≤ 253 characters). */
export function isHostName(name: string): boolean {
  return name.length <= 253 && isIP(name) === 0 && name.split('.').every((label) => LABEL.test(label));
}

/**
 * The names of a LAN certificate: `hostname` and `hostname.local` (what mDNS answers), `localhost`, `127.0.0.1`
 * and `::1`, then `names` and `ips`. Throws `FW_ERR_INVALID_OPTION` naming a malformed `--name` or `--ip`.
 */
export function lanNames(hostname: string, names: readonly string[], ips: readonly string[]): LanNames {
  for (const name of names) {
    assertOption(
      isHostName(name.toLowerCase()),
      `--name must be a host name such as raspberrypi.local (letters, digits, hyphens and dots); got ${JSON.stringify(name)}`,
    );
  }
  for (const ip of ips) {
    assertOption(
      isIP(ip) !== 0,
      `--ip must be an IPv4 or IPv6 address such as 192.168.1.20; got ${JSON.stringify(ip)}`,
    );
  }
  const host = hostname.toLowerCase();
  const own = isHostName(host) ? [host, ...(host.endsWith('.local') ? [] : [`${host}.local`])] : [];
  return {
    dns: [...new Set([...own, 'localhost', ...names.map((name) => name.toLowerCase())])],
    ips: [...new Set(['127.0.0.1', '::1', ...ips])],
  };
}
