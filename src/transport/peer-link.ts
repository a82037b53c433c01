import type { Addr, MemberId, RegisterItem, Versioned } from '../core/types.js';

/**
 * One member's replica API as the coordinator's runtime sees it: a batch of addresses in,
 * their stored pairs out; a batch of items in, resolved once they are durable there.
 * Failures: PeerRefusedError when the member will not serve us (another member set, credentials refused);
 * any other rejection is transient and the caller retries.
 */
export interface PeerLink {
  readonly member: MemberId;
  query(addrs: readonly Addr[], signal: AbortSignal): Promise<Versioned[]>;
  update(items: readonly RegisterItem[], signal: AbortSignal): Promise<void>;
}

/** The member answered that it will not serve this node; retrying cannot help. */
export class PeerRefusedError extends Error {
  override readonly name = 'PeerRefusedError';
}

/**
 * True for an answer that refuses this node for good (until someone changes a setting):
 * another member set (409), or credentials it does not accept (401, 403).
 */
export function isRefusal(status: number, code: string | undefined): boolean {
  return (status === 409 && code === 'membership_mismatch') || (status === 401 && code === 'unauthenticated')
    || (status === 403 && code === 'permission_denied');
}

/** The replica role of this node, as the local link needs it. */
export interface LocalReplica {
  query(addrs: readonly Addr[]): Versioned[];
  update(items: readonly RegisterItem[]): Promise<void>;
}

/** The coordinator's own replica, reached without a network hop (same rules as remote). */
export class LocalLink implements PeerLink {
  constructor(readonly member: MemberId, private readonly replica: LocalReplica) {}

  async query(addrs: readonly Addr[]): Promise<Versioned[]> {
    return this.replica.query(addrs);
  }

  update(items: readonly RegisterItem[]): Promise<void> {
    return this.replica.update(items);
  }
}
