import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FramewireError } from '@framewire/core';
import { lanNames } from './lan-names.js';
import { LocalCa } from './local-ca.js';

const USAGE = `Usage: framewire-bridge tls [--name <host>]... [--ip <address>]... [--dir <folder>]

Makes a local certificate authority (once; kept in --dir and reused) and a certificate for this machine's LAN
names, signed by it, so that phones and other computers open the bridge and the demo over https (browsers give
WebCodecs, getUserMedia, Service Workers and OPFS only to https pages, or to localhost). Then prints how to trust
the CA on a phone and the flags to pass the bridge.

Options:
  --name <host>      another DNS name of this machine (repeat), e.g. raspberrypi.local or cam.lan; always included:
                     the host name, <host name>.local and localhost
  --ip <address>     an IP address of this machine (repeat), e.g. 192.168.1.20; always included: 127.0.0.1, ::1
  --hostname <name>  the host name to start from (default: this machine's, ${hostname()})
  --dir <folder>     where the CA and the certificate live (default: $XDG_CONFIG_HOME/framewire/tls or
                     ~/.config/framewire/tls); ca.key and the certificate's key are written with mode 0600
  --port <number>    the bridge port shown in the printed commands (default 8090)
  --openssl <path>   the openssl executable (default: openssl)
  --help             print this help`;

/** The default folder of the local CA: `$XDG_CONFIG_HOME/framewire/tls`, else `~/.config/framewire/tls`. */
export function defaultTlsDir(): string {
  return join(process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'framewire', 'tls');
}

/**
 * `framewire-bridge tls`: makes (or reuses) the local CA in `--dir`, issues a certificate for the LAN names, and
 * prints where the files are, how to trust the CA on Android and iOS, and the bridge flags. Rejects with
 * `FW_ERR_INVALID_OPTION` (unknown flag, malformed name or address, unwritable folder) or `FW_ERR_PROCESS_FAILED`
 * (openssl missing or failing).
 */
export async function runTlsCommand(args: string[], out: (text: string) => void): Promise<void> {
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      options: {
        name: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
        hostname: { type: 'string' },
        dir: { type: 'string' },
        port: { type: 'string' },
        openssl: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    out(`${USAGE}\n`);
    return;
  }
  const port = values.port ?? '8090';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new FramewireError('FW_ERR_INVALID_OPTION', `--port must be an integer in 0..65535; got ${port}`);
  }
  const names = lanNames(values.hostname ?? hostname(), values.name ?? [], values.ip ?? []);
  const dir = resolve(values.dir ?? defaultTlsDir());
  const ca = await LocalCa.open(dir, {
    name: `framewire local CA ${names.dns[0] ?? ''}`.trim(),
    ...(values.openssl === undefined ? {} : { openssl: values.openssl }),
  });
  const issued = await ca.issue(names);
  const host = names.dns.find((name) => name.endsWith('.local')) ?? names.dns[0] ?? 'localhost';
  out(
    [
      `Local CA ${ca.created ? 'made' : 'reused'}: ${ca.certPath} (its key ca.key: keep it secret, it can vouch for any site)`,
      `Certificate for ${[...names.dns, ...names.ips].join(', ')}`,
      `  ${issued.certPath}`,
      `  key ${issued.keyPath} (mode 0600), valid until ${issued.validTo.toISOString().slice(0, 10)}`,
      '',
      'Serve over https (and wss) on the LAN:',
      `  framewire-bridge --host 0.0.0.0 --tls-cert ${issued.certPath} --tls-key ${issued.keyPath} --token <secret>`,
      `  then open https://${host}:${port}/ on the phone`,
      '',
      'Trust the CA once on each phone (the certificate alone is in a folder that is safe to share):',
      `  framewire-bridge --host 0.0.0.0 --static ${join(ca.dir, 'share')}`,
      `  then open http://${host}:${port}/files/ca.crt on the phone, and stop the bridge (Ctrl-C)`,
      '  Android: Settings > Security & privacy > More security settings > Encryption & credentials >',
      '           Install a certificate > CA certificate, and pick ca.crt from Downloads',
      '  iOS:     open the link in Safari and allow the profile download; Settings > General >',
      `           VPN & Device Management > "${ca.name}" > Install; then Settings > General > About >`,
      `           Certificate Trust Settings > turn on full trust for "${ca.name}"`,
      '',
    ].join('\n'),
  );
}
