import type { Addr, MemberId, RegisterItem, Versioned } from '../core/types.js';

/**
 * One member's replica API as the coordinator's runtime sees it: a batch of addresses in,
 * their stored pairs out; a batch of items in, resolved once they are durable there.
 * Failures: PeerRefusedError when the member will never serve us (another member set);
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
