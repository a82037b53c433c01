import type { RegisterPage } from '../core/recovery.js';
import type { Addr, MemberId, QueryAnswer, RegisterItem, ReplicaAnswer, ValueWant } from '../core/types.js';
import type { PingReply } from './wire.js';

/**
 * One member's replica API as the coordinator's runtime sees it: a batch of addresses in,
 * their stored pairs out (or `unavailable` for an address the member cannot vouch for); a
 * batch of items in, resolved once they are durable there. `withValues` false: the caller
 * needs tags only (a write's query phase), and the answers' values are null.
 * Failures: PeerRefusedError when the member will not serve us (another member set, credentials refused);
 * any other rejection is transient and the caller retries.
 */
export interface PeerLink {
  readonly member: MemberId;
  query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], signal: AbortSignal): Promise<QueryAnswer[]>;
  update(items: readonly RegisterItem[], signal: AbortSignal): Promise<void>;
}

/**
 * Everything a node asks of one other member: the replica API, heartbeats and recovery pages.
 * HttpLink is the production one (the peer streams and /peer/registers); the simulator's links
 * carry the same calls over a simulated network (test/sim/network.ts).
 */
export interface MemberLink extends PeerLink {
  /** Resolves with the member's identity; rejects when it does not answer within `deadlineMs`. */
  ping(deadlineMs: number): Promise<PingReply>;
  /** One page of the member's registers after `after` (wiped-dir recovery). */
  registers(after: Addr | null, signal: AbortSignal): Promise<RegisterPage>;
  close(): void;
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
  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[];
  update(items: readonly RegisterItem[]): Promise<void>;
}


/** The coordinator's own replica, reached without a network hop (same rules as remote). */
export class LocalLink implements PeerLink {
  constructor(readonly member: MemberId, private readonly replica: LocalReplica) {}

  async query(addrs: readonly Addr[], withValues: boolean | readonly boolean[]): Promise<QueryAnswer[]> {
    // Every wanted value, whatever its size: the local replica is not behind a wire, so it defers nothing.
    return this.replica.query(addrs, { values: withValues, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true }) as QueryAnswer[];
  }

  update(items: readonly RegisterItem[]): Promise<void> {
    return this.replica.update(items);
  }
}
