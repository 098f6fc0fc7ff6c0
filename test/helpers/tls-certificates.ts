/** A test CA and a server certificate for 127.0.0.1 made with openssl, for TLS tests on loopback. */
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Runs openssl with `args` in `cwd`. */
function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/openssl', args, { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`openssl ${args[0] ?? ''} exited ${code}`)),
    );
  });
}

/** A test CA and a server certificate for 127.0.0.1 it signed, in `dir` (ca.pem, server.pem, server.key). */
export async function makeCertificates(dir: string): Promise<void> {
  const subject = (cn: string): string[] => ['-subj', `/CN=${cn}`];
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      ...subject('framewire test CA'),
    ],
    dir,
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', ...subject('127.0.0.1')],
    dir,
  );
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    ],
    dir,
  );
}

/** The base64 SHA-256 of a PEM certificate's public key (SPKI): what Chromium's `--ignore-certificate-errors-spki-list` takes. */
export async function spkiSha256Base64(certPath: string): Promise<string> {
  const spki = new X509Certificate(await readFile(certPath)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
