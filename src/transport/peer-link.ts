import type { ChangeFeedPage, TagPage } from '../core/catchup.js';
import type { RegisterPage } from '../core/recovery.js';
import type { AcceptorPage, RmwAnswer, RmwMessage } from '../core/rmw.js';
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
  /** `rank`: the configuration state the request is sent under (membership/configuration.ts stateRank). */
  query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], signal: AbortSignal, rank?: number): Promise<QueryAnswer[]>;
  update(items: readonly RegisterItem[], signal: AbortSignal, rank?: number): Promise<void>;
  /** A batch of an rmw's prepares and accepts (docs/rmw.md), answered once every change of acceptor state is durable there. */
  rmw(messages: readonly RmwMessage[], signal: AbortSignal, rank?: number): Promise<RmwAnswer[]>;
}

/**
 * Everything a node asks of one other member: the replica API, heartbeats and recovery pages.
 * HttpLink is the production one (the peer streams and /peer/registers); the simulator's links
 * carry the same calls over a simulated network (test/sim/network.ts).
 */
export interface MemberLink extends PeerLink {
  /** Resolves with the member's identity; rejects when it does not answer within `deadlineMs`. */
  ping(deadlineMs: number): Promise<PingReply>;
  /** One page of the member's registers after `after`, in address order (a state transfer). */
  registers(after: Addr | null, signal: AbortSignal, rank?: number): Promise<RegisterPage>;
  /**
   * One page of the member's change feed after `since` (docs/catch-up.md): tags only, or with
   * values (recovery). `log`: the change log the position belongs to (the member's status
   * shows how far behind it we are).
   */
  changes(since: number, limit: number, values: boolean, signal: AbortSignal, rank?: number, log?: string): Promise<ChangeFeedPage>;
  /** One page of the member's rmw acceptor rows after `after`, in address order (a wiped member's recovery, docs/rmw.md). */
  acceptors(after: Addr | null, signal: AbortSignal, rank?: number): Promise<AcceptorPage>;
  /** Merges acceptor rows into the member's own (a member change's state transfer, docs/rmw.md); resolves once durable. */
  mergeAcceptors(rows: AcceptorPage['items'], signal: AbortSignal, rank?: number): Promise<void>;
  /** One page of the member's tags after `after`, in address order (catch-up's full comparison). */
  tags(after: Addr | null, signal: AbortSignal, rank?: number): Promise<TagPage>;
  close(): void;
}

/** What changes of the member set ask of one member, besides its replica API (HttpLink). */
export interface ConfigLink extends MemberLink {
  /** The member's configuration state and cluster id (GET /peer/config). */
  config(signal: AbortSignal): Promise<ConfigAnswer>;
  /** Tells the member a newer configuration state; resolves with the one it holds after. */
  pushConfig(state: unknown, signal: AbortSignal): Promise<ConfigAnswer>;
  /** One Paxos message for the choice of the next configuration (membership/paxos.ts). */
  paxos(message: PaxosMessage, signal: AbortSignal): Promise<unknown>;
}

/** What GET/POST /peer/config answer: the member's state, its cluster id and node id. */
export interface ConfigAnswer {
  readonly clusterId: string;
  readonly nodeId: string;
  readonly state: unknown;
}

/** A Paxos request (POST /peer/paxos). */
export type PaxosMessage =
  | { readonly op: 'prepare'; readonly slot: number; readonly ballot: { round: number; node: string } }
  | { readonly op: 'accept'; readonly slot: number; readonly ballot: { round: number; node: string }; readonly value: unknown };

/**
 * A member answered a request with an error (wire.ts): its code, and for `stale_config` and
 * `retired` the configuration state it holds.
 */
export class PeerAnswerError extends Error {
  override readonly name = 'PeerAnswerError';
  constructor(readonly member: MemberId, readonly code: string, message: string, readonly state?: unknown) {
    super(`${member}: ${message}`);
  }
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
  query(addrs: readonly Addr[], want: ValueWant, rank?: number): ReplicaAnswer[];
  update(items: readonly RegisterItem[], rank?: number): Promise<void>;
  rmw(messages: readonly RmwMessage[], rank?: number): Promise<RmwAnswer[]>;
}


/** The coordinator's own replica, reached without a network hop (same rules as remote). */
export class LocalLink implements PeerLink {
  constructor(readonly member: MemberId, private readonly replica: LocalReplica) {}

  async query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], _signal?: AbortSignal, rank?: number): Promise<QueryAnswer[]> {
    // Every wanted value, whatever its size: the local replica is not behind a wire, so it defers nothing.
    return this.replica.query(addrs, { values: withValues, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true }, rank) as QueryAnswer[];
  }

  update(items: readonly RegisterItem[], _signal?: AbortSignal, rank?: number): Promise<void> {
    return this.replica.update(items, rank);
  }

  rmw(messages: readonly RmwMessage[], _signal?: AbortSignal, rank?: number): Promise<RmwAnswer[]> {
    return this.replica.rmw(messages, rank);
  }
}
