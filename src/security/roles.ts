/**
 * Who may do what. A client's role comes from its token (tokens.ts) or, with client
 * certificates and no auth file, from the certificate alone (admin). Peers are not clients:
 * they prove membership with the cluster certificate or the cluster secret.
 */
export type Role = 'read' | 'write' | 'admin';

export const ROLES: readonly Role[] = ['read', 'write', 'admin'];

const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

/** True when `held` includes everything `needed` allows (admin > write > read). */
export function roleAllows(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}

/**
 * What a route needs, declared on the route and checked in one place (the server):
 * - `open`: anyone (liveness and readiness say nothing about data);
 * - `client`: a client with at least `role` (public API and operator endpoints);
 * - `peer`: a member of this cluster (the replica API); `joining`: also a node that has the
 *   cluster's credentials but not its cluster id yet (`start --join` fetching the configuration).
 */
export type Access =
  | { readonly scope: 'open' }
  | { readonly scope: 'client'; readonly role: Role }
  | { readonly scope: 'peer'; readonly joining?: true };

/** The authenticated caller of one request, for handlers, logs and metrics. */
export interface Caller {
  /** How it proved itself: nothing (security off or open route), a token, a certificate, or as a member. */
  readonly kind: 'anonymous' | 'token' | 'certificate' | 'peer';
  /** A name for logs: the token's name, the certificate's subject, the peer's address. */
  readonly name: string;
  /** The client role; peers and open routes carry none. */
  readonly role: Role | null;
}
