import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cluster.js';

/** Paths of one certificate and its key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * Test PKI made at test time with the openssl command (nothing checked in): a cluster CA,
 * member certificates for 127.0.0.1, a client certificate, an expired member certificate,
 * and a second CA with a member certificate of its own (a stranger). EC P-256 keys: quick
 * to make. `remove()` deletes every file.
 */
export class TestPki {
  readonly ca: string;
  readonly member: CertFiles;
  /** A second member certificate from the same CA (rotation). */
  readonly member2: CertFiles;
  /** A client certificate (CN=alice, no IP names): valid for clients, not as a member. */
  readonly client: CertFiles;
  readonly expired: CertFiles;
  readonly otherCa: string;
  /** A member certificate for 127.0.0.1 signed by the other CA. */
  readonly stranger: CertFiles;

  private constructor(readonly dir: string) {
    this.ca = join(dir, 'ca.pem');
    this.otherCa = join(dir, 'other-ca.pem');
    this.member = this.files('member');
    this.member2 = this.files('member2');
    this.client = this.files('client');
    this.expired = this.files('expired');
    this.stranger = this.files('stranger');
  }

  static make(): TestPki {
    const pki = new TestPki(tempDir('shmem-pki-'));
    try {
      pki.makeCa('ca', 'shmem test CA');
      pki.makeCa('other-ca', 'some other CA');
      const memberExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n';
      pki.issue('member', 'ca', 'shmem member', memberExt, 2);
      pki.issue('member2', 'ca', 'shmem member (rotated)', memberExt, 2);
      pki.issue('client', 'ca', 'alice', 'extendedKeyUsage=clientAuth\n', 2);
      pki.issue('expired', 'ca', 'shmem member (expired)', memberExt, -1);
      pki.issue('stranger', 'other-ca', 'shmem member of another CA', memberExt, 2);
    } catch (err) {
      pki.remove();
      throw err;
    }
    return pki;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A cluster secret file in the PKI's folder (made on first use). */
  secretFile(): string {
    const path = join(this.dir, 'cluster.secret');
    writeFileSync(path, `${randomBytes(24).toString('base64')}\n`);
    return path;
  }

  /** `--tls-*` start flags for a member using `files`. */
  memberFlags(files: CertFiles = this.member): string[] {
    return ['--tls-cert', files.cert, '--tls-key', files.key, '--tls-ca', this.ca];
  }

  private files(name: string): CertFiles {
    return { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}.key`) };
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private makeCa(name: string, cn: string): void {
    this.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3', '-subj', `/CN=${cn}`]);
  }

  /** A certificate signed by `ca`, valid for `days` (negative: already expired). */
  private issue(name: string, ca: string, cn: string, ext: string, days: number): void {
    writeFileSync(join(this.dir, `${name}.ext`), ext);
    this.openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    this.openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`]);
  }
}
