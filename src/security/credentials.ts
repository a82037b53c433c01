import { ConfigError } from '../errors.js';
import { ClusterSecret } from './cluster-secret.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './tls.js';
import { readAuthFile, TokenStore } from './tokens.js';

/** The security settings of a node, as configured (paths, not contents). */
export interface SecuritySettings {
  /** TLS for clients and peers; undefined = plain HTTP. */
  readonly tls: TlsFiles | undefined;
  /** Clients must present a certificate signed by the client CA (etcd's --client-cert-auth). */
  readonly clientCertAuth: boolean;
  readonly clusterSecretFile: string | undefined;
  /** Bearer tokens with roles; undefined = no token needed. */
  readonly authFile: string | undefined;
}

/**
 * What the security settings' files hold, read and validated together. Built at start-up
 * (a problem is a ConfigError naming the file) and again on SIGHUP: a reload that fails
 * keeps the previous credentials, so a typo never opens or closes the node.
 */
export interface Credentials {
  readonly tls: TlsMaterial | undefined;
  readonly secret: ClusterSecret | undefined;
  readonly tokens: TokenStore | undefined;
}

export function loadCredentials(s: SecuritySettings, now: Date = new Date()): Credentials {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  const tls = s.tls === undefined ? undefined : attempt(() => loadTlsMaterial(s.tls!, now));
  const secret = s.clusterSecretFile === undefined ? undefined : attempt(() => ClusterSecret.read(s.clusterSecretFile!));
  const tokens = s.authFile === undefined ? undefined : attempt(() => new TokenStore(readAuthFile(s.authFile!)));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return { tls, secret, tokens };
}
