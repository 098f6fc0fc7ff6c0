import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import type * as Framewire from '@framewire/browser-sdk';
import { SignalingServer, readTlsFiles } from '@framewire/signaling';
import { launchChromium } from '../helpers/chromium.js';
import { runCli, startCli, tempDir, type StartedServer } from '../helpers/node.js';
import { openPeerPage, startSdkServer } from '../helpers/peers.js';
import { RawClient } from '../helpers/signaling.js';
import { makeCertificates, spkiSha256Base64 } from '../helpers/tls-certificates.js';

const SECRET = 'tls-test-secret-0123456789';
const SCRIPT = 'packages/signaling/bin/framewire-signaling.js';

/** An https request trusting only `ca`; resolves with the status and body. */
function httpsRequest(
  url: string,
  ca: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: init.method ?? 'GET', headers: init.headers ?? {} }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += String(chunk)));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('signaling server over TLS (https and wss on one port)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let ca: string;
  let certPath: string;
  let keyPath: string;
  let sdk: StartedServer;
  let server: SignalingServer;
  let origin: string;

  before(async () => {
    dir = await tempDir();
    await makeCertificates(dir.path);
    [certPath, keyPath] = [join(dir.path, 'server.pem'), join(dir.path, 'server.key')];
    ca = await readFile(join(dir.path, 'ca.pem'), 'utf8');
    sdk = await startSdkServer();
    server = await SignalingServer.start({
      port: 0,
      secret: SECRET,
      tls: await readTlsFiles(certPath, keyPath),
      allowedOrigins: [sdk.url],
      devTokens: true,
    });
    origin = `https://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    await sdk.close();
    await dir.remove();
  });

  it('serves every endpoint over https to a client that trusts the CA, and refuses one that does not', async () => {
    const health = await httpsRequest(`${origin}/health`, ca);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');
    assert.match((await httpsRequest(`${origin}/metrics`, ca)).body, /framewire_signaling_connections \d+/);
    const minted = await httpsRequest(`${origin}/dev/token`, ca, {
      method: 'POST',
      body: JSON.stringify({ room: 'tls', role: 'publisher' }),
    });
    const { token } = JSON.parse(minted.body) as { token: string };
    const check = await httpsRequest(`${origin}/ws/check`, ca, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(check.status, 200, check.body);

    const a = await RawClient.join(`wss://127.0.0.1:${server.port}/ws`, token, 'tls', {}, { ca });
    const b = await RawClient.join(
      `wss://127.0.0.1:${server.port}/ws`,
      await server.tokens.issue({ room: 'tls', role: 'viewer' }),
      'tls',
      {},
      { ca },
    );
    try {
      assert.equal((await a.next('peer-joined')).peer.peerId, b.welcome.peerId);
      a.send({ type: 'relay', to: b.welcome.peerId, data: { over: 'wss' } });
      assert.deepEqual((await b.next('relay')).data, { over: 'wss' });
    } finally {
      await a.close();
      await b.close();
    }

    // Without the CA the certificate cannot be verified: no socket, no request.
    const untrusted = await RawClient.open(`wss://127.0.0.1:${server.port}/ws`, token).then(
      () => assert.fail('a client without the CA connected'),
      (error: unknown) => error as NodeJS.ErrnoException,
    );
    assert.equal(untrusted.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await assert.rejects(
      new Promise((resolve, reject) => request(`${origin}/health`, resolve).on('error', reject).end()),
      { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    );
  });

  it('a Chromium page joins over wss and meets a Node peer', async () => {
    // Only this browser trusts the test certificate, by its public key.
    const browser: Browser = await launchChromium([
      `--ignore-certificate-errors-spki-list=${await spkiSha256Base64(certPath)}`,
    ]);
    const node = await RawClient.join(
      `wss://127.0.0.1:${server.port}/ws`,
      await server.tokens.issue({ room: 'tls-page', role: 'publisher' }),
      'tls-page',
      {},
      { ca },
    );
    try {
      const errors: string[] = [];
      const page = await openPeerPage(browser, sdk.url, errors);
      const token = await server.tokens.issue({ room: 'tls-page', role: 'viewer' });
      const joined = await page.evaluate(
        async ({ url, token }) => {
          const fw = (await import(`${location.origin}/sdk/index.js`)) as typeof Framewire;
          const room = await fw.Room.open({ url, token, room: 'tls-page' });
          const seen = room.peers.map((p) => p.peerId);
          const peerId = room.peerId;
          await room.close();
          return { peerId, seen };
        },
        { url: `wss://127.0.0.1:${server.port}/ws`, token },
      );
      assert.deepEqual(joined.seen, [node.welcome.peerId]);
      assert.equal((await node.next('peer-joined')).peer.peerId, joined.peerId);
      assert.equal((await node.next('peer-left')).peerId, joined.peerId);
      assert.deepEqual(errors, []);
    } finally {
      await node.close();
      await browser.close();
    }
  });

  it('the CLI serves https with --tls-cert/--tls-key and refuses missing, mismatched or half-given files', async () => {
    const cli = await startCli(
      SCRIPT,
      ['--port', '0', '--secret', SECRET, '--tls-cert', certPath, '--tls-key', keyPath],
      /listening on https:\/\/127\.0\.0\.1:(\d+)/,
    );
    try {
      assert.equal((await httpsRequest(`https://127.0.0.1:${cli.match[1]}/health`, ca)).status, 200);
    } finally {
      await cli.stop();
    }
    const missing = join(dir.path, 'missing.pem');
    const cases: [string[], RegExp][] = [
      [['--tls-cert', missing, '--tls-key', keyPath], /cannot read the TLS certificate file .*missing\.pem \(ENOENT\)/],
      [['--tls-cert', certPath, '--tls-key', missing], /cannot read the TLS key file .*missing\.pem \(ENOENT\)/],
      // The CA's certificate with the server's key: a pair that does not match.
      [['--tls-cert', join(dir.path, 'ca.pem'), '--tls-key', keyPath], /not a usable certificate and key/],
      [['--tls-cert', keyPath, '--tls-key', keyPath], /not a usable certificate and key/],
      [['--tls-cert', certPath], /--tls-cert and --tls-key go together/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(SCRIPT, ['--port', '0', '--secret', SECRET, ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /FW_ERR_INVALID_OPTION/);
      assert.match(result.stderr, message);
    }
  });

  it('SignalingServer.start refuses TLS options that are not a certificate and key', async () => {
    await assert.rejects(SignalingServer.start({ port: 0, secret: SECRET, tls: { cert: 'x', key: 'y' } }), {
      code: 'FW_ERR_INVALID_OPTION',
    });
    await assert.rejects(
      SignalingServer.start({ port: 0, secret: SECRET, tls: { cert: await readFile(certPath) } as never }),
      { code: 'FW_ERR_INVALID_OPTION', message: /options\.tls must be \{ cert, key \}/ },
    );
  });
});
