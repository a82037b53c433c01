import type { IncomingHttpHeaders } from 'node:http';
import type { ChangeFeedPage, TagPage } from '../core/catchup.js';
import type { RegisterPage } from '../core/recovery.js';
import type { AcceptorPage, RmwAnswer, RmwChange, RmwMessage } from '../core/rmw.js';
import type { Addr, ReadResult, RegisterItem, ReplicaAnswer, RmwResult, ValueWant, WriteResult } from '../core/types.js';
import type { TagCursor, TagEntry } from '../storage/register-store.js';
import type { PingReply, RefusalReason } from '../transport/wire.js';

/** What the edge asks of membership; bodies are untrusted JSON, checked by the implementation. */
export interface MembershipApi {
  /** GET /peer/config. */
  config(): unknown;
  /** POST /peer/config: adopt the state if newer; answers as config(). */
  pushConfig(body: unknown): unknown;
  /** POST /peer/paxos: one acceptor step, durable before it answers. */
  paxos(body: unknown): unknown;
  /** GET /members: the member list for operators. */
  list(): Promise<unknown>;
  /** POST /members: add, remove or replace (admin); resolves when the change is complete. */
  change(body: unknown): Promise<unknown>;
}

/** Readiness checklist (rqlite style): `[+]store ok`, `[-]quorum 1/3 reachable`. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly string[];
}

/**
 * What the HTTP edge needs from the node; the daemon provides it. Declared here, by its
 * consumer, so the server can be tested against any implementation.
 */
export interface NodeApi {
  readonly valueBytesMax: number;
  /** Linearizable operations (coordinator role). */
  read(addr: Addr): Promise<ReadResult>;
  write(addr: Addr, value: string): Promise<WriteResult>;
  /** Compare-and-set and add (docs/rmw.md); a refused change rejects with ChangeRefusedError. */
  rmw(addr: Addr, change: RmwChange): Promise<RmwResult>;
  /** Replica role; `rank`: the configuration state the request was sent under (docs/membership.md). */
  query(addrs: readonly Addr[], want: ValueWant, rank?: number): ReplicaAnswer[];
  update(items: readonly RegisterItem[], rank?: number): Promise<void>;
  /** The acceptor role of compare-and-set and add: a batch of prepares and accepts, answered once durable. */
  acceptRmw(messages: readonly RmwMessage[], rank?: number, inlineOnly?: boolean): Promise<RmwAnswer[]>;
  registers(after: Addr | null, limit: number, rank?: number): RegisterPage;
  /** GET /peer/acceptors: a page of rmw acceptor rows (a wiped member's recovery). */
  acceptorPage(after: Addr | null, rank?: number): AcceptorPage;
  /** POST /peer/acceptors: merge rows into this member's (a member change's transfer). */
  mergeAcceptors(rows: AcceptorPage['items'], rank?: number): Promise<void>;
  /** The change feed (docs/catch-up.md); `from` and `log`: who asks, and for which log its position is. */
  changes(since: number, limit: number, values: boolean, rank: number | undefined, from: string, log: string | undefined): ChangeFeedPage;
  tagPage(after: Addr | null, limit: number, rank?: number): TagPage;
  /** The member set (docs/membership.md): peers' GET/POST /peer/config and /peer/paxos, operators' /members. */
  readonly membership: MembershipApi;
  /** This replica's tags (no values), for operators and the dashboard; whatever its state. */
  tags(from: TagCursor, limit: number): TagEntry[];
  /** Throws MembershipMismatchError unless the headers carry our member set. */
  checkPeer(headers: IncomingHttpHeaders): void;
  ping(): PingReply;
  /** Counts and (rate-limited) logs peer input refused by the checks of wire.ts. */
  peerInputRefused(reason: RefusalReason, message: string, from: string): void;
  /** The status document; `details` adds this node's local facts (admins only). */
  status(details: boolean): Promise<unknown>;
  /** A full comparison against every other member now (POST /repair): what it compared and fixed. */
  repair(): Promise<unknown>;
  /**
   * An operator accepts the loss of the recovering members' data (POST /recovery/accept-data-loss,
   * docs/recovery.md); `by` names the caller for the log. Says whether it was accepted, and why not.
   */
  acceptDataLoss(by: string): unknown;
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; text: string }>;
  readiness(): Promise<Readiness>;
}
