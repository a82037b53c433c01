import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { splitMember } from '../config/members.js';
import type { MemberId } from '../core/types.js';
import { PermissionDeniedError, UnauthenticatedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import { HEADER_CLUSTER, HEADER_FROM } from '../transport/wire.js';
import { HEADER_PEER_PROOF } from './cluster-secret.js';
import type { Credentials } from './credentials.js';
import { roleAllows, type Access, type Caller, type Role } from './roles.js';
import type { TokenEntry } from './tokens.js';
import { signedBy } from './tls.js';

const TOKEN_HINT = 'give the CLI --token (or SHMEM_TOKEN); an admin makes tokens with `shmem token create`';

/** How often one refused source is logged. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface AccessControlOptions {
  readonly clusterId: string;
  /** Every member, self included: a peer certificate must name one of their hosts. */
  readonly clientCertAuth: boolean;
  readonly logger: Logger;
  /** Told of every refusal (metrics). */
  readonly onRefused: (scope: Access['scope'], code: 'unauthenticated' | 'permission_denied') => void;
}

const ANONYMOUS_ADMIN: Caller = Object.freeze({ kind: 'anonymous', name: 'anonymous', role: 'admin' });
const OPEN: Caller = Object.freeze({ kind: 'anonymous', name: 'anonymous', role: null });

/**
 * The one place where requests are admitted (rqlite's CredentialStore in front of its HTTP
 * service). Every route declares its Access; the server calls authorize() before the handler.
 *
 * Peers: with TLS, a client certificate signed by the member CA whose names cover the
 * sender's member host (so a client certificate from a shared CA cannot act as a member);
 * with a cluster secret, its proof. Both are checked when both are configured.
 * Clients: with an auth file, a bearer token whose role allows the route; with client
 * certificates required, the TLS handshake already checked them (admin without an auth file).
 * With neither, every client is an anonymous admin (loopback default, or --insecure).
 */
export class AccessControl {
  private readonly refusals = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);

  constructor(private credentials: Credentials, private readonly options: AccessControlOptions) {}

  /** Replaces the credentials (SIGHUP); requests from now on are checked against the new ones. */
  replace(credentials: Credentials): void {
    this.credentials = credentials;
  }

  /**
   * The caller of `req` if `access` admits it; throws UnauthenticatedError or
   * PermissionDeniedError otherwise. Synchronous unless a token must be checked with scrypt
   * (first use), so the request path pays no extra turn of the event loop.
   */
  authorize(req: IncomingMessage, access: Access): Caller | Promise<Caller> {
    if (access.scope === 'open') return OPEN;
    try {
      const caller = access.scope === 'peer' ? this.authorizePeer(req) : this.authorizeClient(req, access.role);
      return caller instanceof Promise ? caller.catch((err: unknown) => this.refused(req, access, err)) : caller;
    } catch (err) {
      return this.refused(req, access, err);
    }
  }

  /** Counts and (once per source and minute) logs a refusal, then throws it on. */
  private refused(req: IncomingMessage, access: Access, err: unknown): never {
    if (err instanceof UnauthenticatedError || err instanceof PermissionDeniedError) {
      this.options.onRefused(access.scope, err.code);
      const source = `${req.socket.remoteAddress ?? '?'} ${String(req.headers[HEADER_FROM] ?? '')}`;
      if (this.refusals.shouldLog(`${access.scope} ${err.code} ${source}`)) {
        this.options.logger.warn(`refused a ${access.scope} request`, { code: err.code, from: source.trim(), path: req.url, reason: err.message });
      }
    }
    throw err;
  }

  private authorizePeer(req: IncomingMessage): Caller {
    const { tls, secret } = this.credentials;
    const from = String(req.headers[HEADER_FROM] ?? '');
    if (tls !== undefined) {
      const socket = req.socket as TLSSocket;
      const cert = socket.getPeerX509Certificate?.();
      if (cert === undefined) throw new UnauthenticatedError('peer requests need a client certificate from the cluster CA (mutual TLS)');
      if (!socket.authorized) throw new PermissionDeniedError(`the peer certificate was refused: ${String(socket.authorizationError)}`);
      if (!tls.memberCas.some((ca) => signedBy(cert, ca))) {
        throw new PermissionDeniedError('the peer certificate is not signed by the member CA (--tls-ca)');
      }
      const { host } = splitMember(from);
      // The member CA is the boundary of the cluster: a certificate it signed for host H speaks for
      // the node at H, member or not yet (a node being added asks its members for the configuration
      // first). What counts in a quorum is decided by the configuration, not here.
      if (host === '') throw new PermissionDeniedError(`peer "${from.slice(0, 80)}" sent no member address (x-shmem-from)`);
      if (cert.checkIP(host) === undefined && cert.checkHost(host) === undefined) {
        throw new PermissionDeniedError(`the peer certificate does not name ${host}, the host of member ${from}`);
      }
    }
    if (secret !== undefined) {
      const proof = req.headers[HEADER_PEER_PROOF];
      if (typeof proof !== 'string' || proof === '') throw new UnauthenticatedError('peer requests need the cluster secret (--cluster-secret-file)');
      // Proven over the cluster id the sender names (the peer guard then checks it is ours; a joining node names JOINING_CLUSTER_ID).
      if (!secret.verify(String(req.headers[HEADER_CLUSTER] ?? ''), proof)) throw new PermissionDeniedError('the peer proved another cluster secret');
    }
    return { kind: 'peer', name: from || 'unknown peer', role: null };
  }

  private authorizeClient(req: IncomingMessage, needed: Caller['role'] & string): Caller | Promise<Caller> {
    const { tokens, tls } = this.credentials;
    let certName: string | undefined;
    if (this.options.clientCertAuth && tls !== undefined) {
      // The handshake refused connections without a valid certificate; this names the caller.
      const cert = (req.socket as TLSSocket).getPeerX509Certificate?.();
      if (cert === undefined) throw new UnauthenticatedError('this node requires a client certificate', { hint: 'give the CLI --cert and --key (or SHMEM_CERT, SHMEM_KEY)' });
      certName = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? cert.subject;
    }
    if (tokens === undefined) {
      return certName === undefined ? ANONYMOUS_ADMIN : { kind: 'certificate', name: certName, role: 'admin' };
    }
    const header = req.headers.authorization;
    if (header === undefined || header === '') throw new UnauthenticatedError('this node requires a token: Authorization: Bearer <token>', { hint: TOKEN_HINT });
    const m = /^Bearer +(\S+)$/i.exec(header);
    if (!m) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
    const entry = tokens.verify(m[1]!);
    return entry instanceof Promise ? entry.then((e) => admit(e, needed)) : admit(entry, needed);
  }
}

/** The caller a verified token (or the reason it is not) makes, for a route needing `needed`. */
function admit(entry: TokenEntry | string, needed: Role): Caller {
  if (typeof entry === 'string') throw new UnauthenticatedError(entry, { hint: TOKEN_HINT });
  if (!roleAllows(entry.role, needed)) {
    throw new PermissionDeniedError(`token ${entry.id} (${entry.name}) has role ${entry.role}; this needs ${needed}`, {
      hint: `an admin makes a token with \`shmem token create --role ${needed}\``,
    });
  }
  return { kind: 'token', name: entry.name, role: entry.role };
}
