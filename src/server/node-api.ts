import type { IncomingHttpHeaders } from 'node:http';
import type { RegisterPage } from '../core/recovery.js';
import type { Addr, ReadResult, RegisterItem, ReplicaAnswer, ValueWant, WriteResult } from '../core/types.js';
import type { TagCursor, TagEntry } from '../storage/register-store.js';
import type { PingReply, RefusalReason } from '../transport/wire.js';

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
  /** Replica role. */
  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[];
  update(items: readonly RegisterItem[]): Promise<void>;
  registers(after: Addr | null, limit: number): RegisterPage;
  /** This replica's tags (no values), for operators and the dashboard; whatever its state. */
  tags(from: TagCursor, limit: number): TagEntry[];
  /** Throws MembershipMismatchError unless the headers carry our member set. */
  checkPeer(headers: IncomingHttpHeaders): void;
  ping(): PingReply;
  /** Counts and (rate-limited) logs peer input refused by the checks of wire.ts. */
  peerInputRefused(reason: RefusalReason, message: string, from: string): void;
  /** The status document; `details` adds this node's local facts (admins only). */
  status(details: boolean): unknown;
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; text: string }>;
  readiness(): Readiness;
}
