import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { access, chmod, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FramewireError } from '@framewire/core';
import type { LanNames } from './lan-names.js';
import { runOpenssl } from './openssl-runner.js';

/** Days a CA certificate stays valid (10 years: it is installed on phones once). */
const CA_DAYS = 3650;
/** Days a server certificate stays valid: 825, the longest Apple accepts for a TLS server certificate. */
const LEAF_DAYS = 825;

/** The files of a server certificate made by {@link LocalCa.issue}. */
export interface IssuedCertificate {
  /** The certificate chain (the server's certificate, then the CA's), PEM: `--tls-cert`. */
  certPath: string;
  /** Its private key, PEM, mode 0600: `--tls-key`. */
  keyPath: string;
  /** When the certificate expires. */
  validTo: Date;
}

/** Options of {@link LocalCa.open}. */
export interface LocalCaOptions {
  /** The `openssl` executable. Default: `openssl` on the PATH. */
  openssl?: string;
  /** The name of a new CA, shown on phones when it is installed. Default: `framewire local CA`. */
  name?: string;
}

function writeFailed(dir: string, error: unknown): FramewireError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new FramewireError('FW_ERR_INVALID_OPTION', `--dir ${dir} is not a writable folder (${code})`, {
    cause: error,
    fatal: true,
    stage: 'tls',
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/** A P-256 private key as PKCS #8 PEM, written with mode 0600 (never readable by others, not even briefly). */
async function writeNewKey(path: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await rm(path, { force: true });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

/**
 * A local certificate authority kept in a folder (`ca.pem`, and `ca.key` with mode 0600), like mkcert's: made once,
 * reused by every later run, and trusted by installing `ca.crt` on each phone. It issues server certificates for
 * the Pi's LAN names. Certificates are made by the `openssl` command line tool, present on every Raspberry Pi OS.
 */
export class LocalCa {
  /** The folder holding the CA. */
  readonly dir: string;
  /** `<dir>/ca.pem`, the CA certificate (PEM). */
  readonly certPath: string;
  /** `<dir>/share/ca.crt`, the same certificate alone in a folder that is safe to serve to phones. */
  readonly sharePath: string;
  /** True when this run made the CA; false when it was already in the folder. */
  readonly created: boolean;
  /** The CA's common name, as phones list it among installed certificates. */
  name = '';
  readonly #keyPath: string;
  readonly #openssl: string | undefined;

  private constructor(dir: string, created: boolean, openssl: string | undefined) {
    this.dir = dir;
    this.certPath = join(dir, 'ca.pem');
    this.sharePath = join(dir, 'share', 'ca.crt');
    this.#keyPath = join(dir, 'ca.key');
    this.created = created;
    this.#openssl = openssl;
  }

  /**
   * Opens the CA in `dir`, making the folder (mode 0700) and the CA when they do not exist. Rejects with
   * `FW_ERR_INVALID_OPTION` when the folder cannot be written or holds half a CA or a CA whose key does not match,
   * `FW_ERR_PROCESS_FAILED` when openssl is missing or fails.
   */
  static async open(dir: string, options: LocalCaOptions = {}): Promise<LocalCa> {
    try {
      await mkdir(join(dir, 'share'), { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK);
      await access(join(dir, 'share'), constants.W_OK);
    } catch (error) {
      throw writeFailed(dir, error);
    }
    const certPath = join(dir, 'ca.pem');
    const keyPath = join(dir, 'ca.key');
    const [hasCert, hasKey] = [await exists(certPath), await exists(keyPath)];
    if (hasCert !== hasKey) {
      throw new FramewireError(
        'FW_ERR_INVALID_OPTION',
        `--dir ${dir} holds ${hasCert ? 'ca.pem without ca.key' : 'ca.key without ca.pem'}: restore the missing file or use an empty folder`,
        { fatal: true, stage: 'tls' },
      );
    }
    const ca = new LocalCa(dir, !hasCert, options.openssl);
    try {
      if (hasCert) await ca.#check();
      else await ca.#create(options.name ?? 'framewire local CA');
      const pem = await readFile(certPath);
      ca.name = /^CN=(.*)$/m.exec(new X509Certificate(pem).subject)?.[1] ?? '';
      await writeFile(ca.sharePath, pem);
    } catch (error) {
      if (error instanceof FramewireError) throw error;
      throw writeFailed(dir, error);
    }
    return ca;
  }

  /**
   * Issues a server certificate for `names`, signed by this CA, to `<dir>/<file>.pem` (chain) and `<dir>/<file>-key.pem`
   * (a new P-256 key, mode 0600), replacing earlier ones. Rejects with `FW_ERR_PROCESS_FAILED` when openssl fails.
   */
  async issue(names: LanNames, file = 'bridge'): Promise<IssuedCertificate> {
    const certPath = join(this.dir, `${file}.pem`);
    const keyPath = join(this.dir, `${file}-key.pem`);
    const work = await mkdtemp(join(this.dir, '.issue-'));
    try {
      await writeNewKey(keyPath);
      const altNames = [...names.dns.map((name) => `DNS:${name}`), ...names.ips.map((ip) => `IP:${ip}`)];
      const config = join(work, 'leaf.cnf');
      await writeFile(
        config,
        [
          '[req]',
          'distinguished_name = dn',
          'prompt = no',
          '[dn]',
          'O = framewire',
          `CN = ${names.dns[0] ?? names.ips[0] ?? 'localhost'}`,
          '[leaf]',
          'basicConstraints = critical,CA:FALSE',
          'keyUsage = critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage = serverAuth',
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid',
          `subjectAltName = ${altNames.join(',')}`,
          '',
        ].join('\n'),
      );
      const csr = await runOpenssl(['req', '-new', '-key', keyPath, '-config', config], this.#tool());
      const leaf = await runOpenssl(
        [
          'x509',
          '-req',
          '-sha256',
          '-days',
          String(LEAF_DAYS),
          '-set_serial',
          `0x${randomBytes(16)
            .toString('hex')
            .replace(/^[89a-f]/, '1')}`,
          '-CA',
          this.certPath,
          '-CAkey',
          this.#keyPath,
          '-extfile',
          config,
          '-extensions',
          'leaf',
        ],
        { ...this.#tool(), input: csr },
      );
      await writeFile(certPath, `${leaf.trim()}\n${(await readFile(this.certPath, 'utf8')).trim()}\n`);
      return { certPath, keyPath, validTo: new Date(new X509Certificate(leaf).validTo) };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  #tool(): { openssl?: string } {
    return this.#openssl === undefined ? {} : { openssl: this.#openssl };
  }

  async #create(name: string): Promise<void> {
    await writeNewKey(this.#keyPath);
    const work = await mkdtemp(join(this.dir, '.ca-'));
    try {
      const config = join(work, 'ca.cnf');
      await writeFile(
        config,
        [
          '[req]',
          'distinguished_name = dn',
          'prompt = no',
          'x509_extensions = ca',
          '[dn]',
          'O = framewire',
          `CN = ${name.replace(/[\\/=+,\n]/g, ' ')}`,
          '[ca]',
          'basicConstraints = critical,CA:TRUE,pathlen:0',
          'keyUsage = critical,keyCertSign,cRLSign',
          'subjectKeyIdentifier = hash',
          '',
        ].join('\n'),
      );
      const pem = await runOpenssl(
        ['req', '-x509', '-new', '-sha256', '-days', String(CA_DAYS), '-key', this.#keyPath, '-config', config],
        this.#tool(),
      );
      await writeFile(this.certPath, pem);
    } catch (error) {
      await rm(this.#keyPath, { force: true });
      throw error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Checks that the CA found in the folder is a CA certificate whose key is `ca.key`. */
  async #check(): Promise<void> {
    let ok = false;
    try {
      const cert = new X509Certificate(await readFile(this.certPath));
      ok = cert.ca && cert.checkPrivateKey(createPrivateKey(await readFile(this.#keyPath)));
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new FramewireError(
        'FW_ERR_INVALID_OPTION',
        `--dir ${this.dir}: ca.pem is not a CA certificate whose key is ca.key; use an empty folder to make a new CA`,
        { fatal: true, stage: 'tls' },
      );
    }
  }
}
