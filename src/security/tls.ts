import { readSettingsFile, SETTINGS_FILE_BYTES_MAX } from '../config/files.js';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

/** The files of a node's TLS setting. */
export interface TlsFiles {
  /** This node's certificate (PEM; may hold the chain after it). */
  readonly cert: string;
  readonly key: string;
  /** The CA(s) that sign members' certificates. */
  readonly ca: string;
  /** The CA(s) that sign clients' certificates; the member CA when not given. */
  readonly clientCa?: string | undefined;
}

/** Validated TLS material, ready for node:https and got. */
export interface TlsMaterial {
  readonly files: TlsFiles;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly clientCa: string;
  /** The member CA certificates: a peer's certificate must be signed by one of these. */
  readonly memberCas: readonly X509Certificate[];
  readonly notAfter: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads and checks the TLS files: each is readable PEM, the certificate is valid now (not
 * expired, not yet to come), the key is the certificate's, and the certificate is signed by
 * the member CA. Throws ConfigError (config_invalid) naming the file and the problem.
 */
export function loadTlsMaterial(files: TlsFiles, now: Date = new Date()): TlsMaterial {
  const cert = readPem(files.cert, 'certificate');
  const key = readPem(files.key, 'key');
  const ca = readPem(files.ca, 'CA');
  const clientCa = files.clientCa === undefined ? ca : readPem(files.clientCa, 'client CA');

  const own = parseCerts(cert, files.cert, 'certificate')[0]!;
  checkDates(own, files.cert, now);
  const memberCas = parseCerts(ca, files.ca, 'CA');
  for (const c of memberCas) checkDates(c, files.ca, now);
  if (files.clientCa !== undefined) for (const c of parseCerts(clientCa, files.clientCa, 'client CA')) checkDates(c, files.clientCa, now);

  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new ConfigError(`TLS key ${files.key}: not a readable private key (${(err as Error).message}); an encrypted key needs its passphrase removed`);
  }
  if (!own.checkPrivateKey(keyObject)) {
    throw new ConfigError(`TLS key ${files.key} does not belong to the certificate ${files.cert}`);
  }
  if (!memberCas.some((c) => signedBy(own, c))) {
    throw new ConfigError(`TLS certificate ${files.cert} (${own.subject.replace(/\n/g, ', ')}) is not signed by the CA in ${files.ca}`, {
      hint: 'every member needs a certificate from the cluster CA given with --tls-ca',
    });
  }
  try {
    createSecureContext({ cert, key, ca: [ca, clientCa] });
  } catch (err) {
    throw new ConfigError(`TLS files ${files.cert}, ${files.key}: OpenSSL refuses them (${(err as Error).message})`);
  }
  return { files, cert, key, ca, clientCa, memberCas, notAfter: new Date(own.validTo) };
}

/** True when `cert` is signed by `ca` (and names it as issuer). */
export function signedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

function readPem(path: string, what: string): string {
  const text = readSettingsFile(path, `TLS ${what}`, SETTINGS_FILE_BYTES_MAX).toString('utf8');
  if (!text.includes('-----BEGIN ')) throw new ConfigError(`TLS ${what} ${path}: not a PEM file`);
  return text;
}

function parseCerts(pem: string, path: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new ConfigError(`TLS ${what} ${path}: holds no certificate`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new ConfigError(`TLS ${what} ${path}: a certificate does not parse (${(err as Error).message})`);
    }
  });
}

function checkDates(cert: X509Certificate, path: string, now: Date): void {
  if (new Date(cert.validTo) < now) throw new ConfigError(`TLS certificate in ${path} expired on ${new Date(cert.validTo).toISOString()}`);
  if (new Date(cert.validFrom) > now) throw new ConfigError(`TLS certificate in ${path} is not valid before ${new Date(cert.validFrom).toISOString()}`);
}
