import { assertOption } from '@framewire/core';
import type { NetGearPattern } from '../netgear/netgear-wire.js';
import { NetGearSource, type NetGearEngine, type NetGearSourceOptions } from './netgear-source.js';

/**
 * vidgear's multi-server mode: one {@link NetGearSource} per sender port, each with `multiServer` set and the id
 * `<id>-<port>` (default id `netgear`, so `netgear-5555`, `netgear-5556`), so that every sender has its own
 * health, feeds and URLs. Throws `FW_ERR_INVALID_OPTION` on an empty or repeated port list or with `ipc`.
 */
export function netGearMultiServerSources(
  ports: readonly number[],
  options: Omit<NetGearSourceOptions, 'port' | 'multiServer'> = {},
): NetGearSource[] {
  assertOption(ports.length > 0, 'multi-server mode needs at least one port');
  assertOption(options.protocol !== 'ipc', 'multi-server mode binds TCP ports (not ipc)');
  assertOption(new Set(ports).size === ports.length, `multi-server ports must differ; got ${ports.join(',')}`);
  const id = options.id ?? 'netgear';
  return ports.map((port) => new NetGearSource({ ...options, id: `${id}-${port}`, port, multiServer: true }));
}

/**
 * Makes the NetGear source(s) of a spec such as `netgear://*:5555?pattern=1`, with query parameters `pattern`,
 * `async`, `bidirectional`, `secure` (0–2), `keys` (folder) and `engine` (`zmtp` or `zeromq`). Multi-server mode
 * takes a port list and `multiserver=1`: `netgear://*:5555,5556?pattern=1&multiserver=1` makes sources
 * `<id>-5555` and `<id>-5556`. The sources feed the bridge's outputs, so they receive into reused buffers
 * (`reuseBuffers`). Throws `FW_ERR_INVALID_OPTION` on a malformed spec.
 */
export function netGearSourcesFromSpec(spec: string, id?: string): NetGearSource[] {
  const match = /^netgear:\/\/([^:/?]+)(?::([\d,]+))?\/?(?:\?(.*))?$/.exec(spec);
  assertOption(match, `--source netgear must look like netgear://*:5555?pattern=1; got ${spec}`);
  const query = new URLSearchParams(match[3] ?? '');
  const flag = (name: string): boolean => ['1', 'true', 'yes'].includes(query.get(name) ?? '');
  const ports = match[2]?.split(',').map((text) => (text === '' ? Number.NaN : Number(text)));
  const multiServer = flag('multiserver');
  assertOption(
    multiServer || (ports?.length ?? 1) === 1,
    `a NetGear port list needs multiserver=1 (vidgear's multiserver_mode); got ${spec}`,
  );
  assertOption(!multiServer || ports, `multiserver=1 needs the sender ports, e.g. netgear://*:5555,5556; got ${spec}`);
  const secureMode = Number(query.get('secure') ?? 0);
  const options: NetGearSourceOptions = {
    ...(id ? { id } : {}),
    address: match[1] ?? '127.0.0.1',
    pattern: Number(query.get('pattern') ?? 0) as NetGearPattern,
    async: flag('async'),
    bidirectional: flag('bidirectional'),
    secureMode: secureMode as 0 | 1 | 2,
    ...(query.get('keys') ? { keysDir: query.get('keys') ?? '' } : {}),
    ...(query.get('engine') ? { engine: query.get('engine') as NetGearEngine } : {}),
    reuseBuffers: true,
  };
  if (multiServer && ports) return netGearMultiServerSources(ports, options);
  return [new NetGearSource({ ...options, ...(ports?.[0] === undefined ? {} : { port: ports[0] }) })];
}
