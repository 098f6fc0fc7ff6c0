import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BridgeServer, createTestPatternSource } from '@framewire/node-bridge';
import { runCli, startCli, tempDir } from '../helpers/node.js';

const CLI = 'packages/node-bridge/bin/framewire-bridge.js';

/** The first certificate of a PEM chain (the server's own). */
const leafOf = (chain: string): string => /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/.exec(chain)![0];

/** GET `url` over https trusting only `ca`, checking the certificate against `servername`; resolves with the status. */
function httpsStatus(url: string, servername: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { servername, ...(ca === undefined ? {} : { ca }) }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('framewire-bridge tls: a local CA and a LAN certificate', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tls: string;
  let first: Awaited<ReturnType<typeof runCli>>;

  before(async () => {
    dir = await tempDir();
    tls = join(dir.path, 'tls');
    first = await runCli(CLI, [
      'tls',
      '--dir',
      tls,
      '--hostname',
      'pi-test',
      '--name',
      'raspberrypi.local',
      '--name',
      'Cam.LAN',
      '--ip',
      '192.168.1.20',
      '--ip',
      'fd00::20',
    ]);
  });
  after(async () => {
    await dir.remove();
  });

  it('makes a CA and a certificate for the names asked that openssl verifies, keys 0600, and prints the flags', async () => {
    assert.equal(first.code, 0, first.stderr);
    const certPath = join(tls, 'bridge.pem');
    const keyPath = join(tls, 'bridge-key.pem');
    assert.match(first.stdout, /Local CA made/);
    assert.ok(first.stdout.includes(`--tls-cert ${certPath} --tls-key ${keyPath}`), first.stdout);
    assert.match(first.stdout, /Android: .*CA certificate/s);
    assert.match(first.stdout, /iOS: .*full trust for "framewire local CA pi-test"/s);
    assert.ok(first.stdout.includes(`--static ${join(tls, 'share')}`), first.stdout);

    // openssl, an independent reader, checks the server certificate against the CA alone, for TLS servers.
    await writeFile(join(dir.path, 'leaf.pem'), leafOf(await readFile(certPath, 'utf8')));
    const { stdout } = await promisify(execFile)('openssl', [
      'verify',
      '-purpose',
      'sslserver',
      '-CAfile',
      join(tls, 'ca.pem'),
      join(dir.path, 'leaf.pem'),
    ]);
    assert.match(stdout, /leaf\.pem: OK/);
    const leaf = new X509Certificate(await readFile(join(dir.path, 'leaf.pem')));
    const sans = (leaf.subjectAltName ?? '').split(', ').sort();
    assert.deepEqual(
      sans,
      [
        'DNS:cam.lan',
        'DNS:localhost',
        'DNS:pi-test',
        'DNS:pi-test.local',
        'DNS:raspberrypi.local',
        'IP Address:127.0.0.1',
        'IP Address:0:0:0:0:0:0:0:1',
        'IP Address:192.168.1.20',
        'IP Address:FD00:0:0:0:0:0:0:20',
      ].sort(),
    );
    assert.equal(leaf.ca, false);
    assert.equal(new X509Certificate(await readFile(join(tls, 'ca.pem'))).ca, true);
    // The phone's copy is the CA certificate, alone in its folder.
    assert.deepEqual(await readFile(join(tls, 'share', 'ca.crt')), await readFile(join(tls, 'ca.pem')));
    for (const key of ['ca.key', 'bridge-key.pem']) {
      assert.equal((await stat(join(tls, key))).mode & 0o777, 0o600, key);
    }
    assert.equal((await stat(tls)).mode & 0o777, 0o700);
  });

  it('reuses the CA on the next run, and the bridge serves https that a client trusting only the CA accepts', async () => {
    const ca = await readFile(join(tls, 'ca.pem'), 'utf8');
    const again = await runCli(CLI, ['tls', '--dir', tls, '--hostname', 'pi-test', '--name', 'raspberrypi.local']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Local CA reused/);
    assert.equal(await readFile(join(tls, 'ca.pem'), 'utf8'), ca, 'the CA is unchanged');

    const bridge = await startCli(
      CLI,
      ['--port', '0', '--size', '160x120', '--fps', '10', '--tls-cert', join(tls, 'bridge.pem')].concat([
        '--tls-key',
        join(tls, 'bridge-key.pem'),
      ]),
      /listening on https:\/\/127\.0\.0\.1:(\d+)/,
    );
    try {
      const url = `https://127.0.0.1:${bridge.match[1]}/health`;
      assert.equal(await httpsStatus(url, 'raspberrypi.local', ca), 200);
      // A name the certificate does not carry, and a client without the CA, are refused.
      await assert.rejects(httpsStatus(url, 'elsewhere.local', ca), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      await assert.rejects(httpsStatus(url, 'raspberrypi.local'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    } finally {
      assert.equal(await bridge.stop(), 0);
    }
  });

  it('refuses bad names, bad addresses, unwritable folders, half a CA and a missing openssl with typed errors', async () => {
    const file = join(dir.path, 'a-file');
    await writeFile(file, '');
    const half = join(dir.path, 'half');
    await mkdir(half);
    await copyFile(join(tls, 'ca.pem'), join(half, 'ca.pem'));
    const foreign = join(dir.path, 'foreign');
    await mkdir(foreign);
    await copyFile(join(tls, 'bridge.pem'), join(foreign, 'ca.pem'));
    await copyFile(join(tls, 'bridge-key.pem'), join(foreign, 'ca.key'));
    const cases: [string[], number, RegExp][] = [
      [['--name', 'bad_name'], 2, /FW_ERR_INVALID_OPTION: --name must be a host name .*"bad_name"/],
      [['--name', '*.local'], 2, /FW_ERR_INVALID_OPTION: --name must be a host name/],
      [['--name=-pi.local'], 2, /FW_ERR_INVALID_OPTION: --name must be a host name/],
      [['--ip', '192.168.1.300'], 2, /FW_ERR_INVALID_OPTION: --ip must be an IPv4 or IPv6 address/],
      [
        ['--dir', join(file, 'tls')],
        2,
        /FW_ERR_INVALID_OPTION: --dir .*a-file\/tls is not a writable folder \(ENOTDIR\)/,
      ],
      [['--dir', half], 2, /FW_ERR_INVALID_OPTION: --dir .*half holds ca\.pem without ca\.key/],
      [['--dir', foreign], 2, /FW_ERR_INVALID_OPTION: --dir .*foreign: ca\.pem is not a CA certificate/],
      [['--openssl', '/nonexistent/openssl'], 1, /FW_ERR_PROCESS_FAILED: cannot run \/nonexistent\/openssl \(ENOENT\)/],
      [['--port', 'x'], 2, /FW_ERR_INVALID_OPTION: --port must be an integer/],
      [['--bogus'], 2, /FW_ERR_INVALID_OPTION: Unknown option '--bogus'/],
    ];
    for (const [args, code, message] of cases) {
      const dirArgs = args.includes('--dir') ? [] : ['--dir', join(dir.path, 'errors')];
      const result = await runCli(CLI, ['tls', ...dirArgs, ...args]);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    // A failed openssl leaves no half-made CA behind.
    await assert.rejects(stat(join(dir.path, 'errors', 'ca.key')), { code: 'ENOENT' });
    await rm(file);
  });

  it('the bridge refuses half-given or unusable TLS files', async () => {
    const result = await runCli(CLI, ['--port', '0', '--tls-cert', join(tls, 'bridge.pem')]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /FW_ERR_INVALID_OPTION: --tls-cert and --tls-key go together/);
    const mismatched = await runCli(CLI, [
      '--port',
      '0',
      '--tls-cert',
      join(tls, 'ca.pem'),
      '--tls-key',
      join(tls, 'bridge-key.pem'),
    ]);
    assert.equal(mismatched.code, 2, mismatched.stderr);
    assert.match(mismatched.stderr, /FW_ERR_INVALID_OPTION: .*not a usable certificate and key/);
    const source = createTestPatternSource({ id: 'tls', width: 160, height: 120, frameRate: 5 });
    await assert.rejects(BridgeServer.start({ port: 0, sources: [source], tls: { cert: 'x', key: 'y' } }), {
      code: 'FW_ERR_INVALID_OPTION',
      message: /options\.tls: not a usable certificate and key/,
    });
    await source.close();
  });
});
