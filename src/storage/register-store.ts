import type { Addr, RegisterItem, Tag, Versioned } from '../core/types.js';

/** Snapshot of the store for /status. */
export interface StoreStats {
  readonly addresses: number;
  readonly dbBytes: number;
  readonly commits: number;
  readonly lastBatchItems: number;
  readonly path: string;
  /** The greatest tag this replica stores (null when empty). */
  readonly highestTag: Tag | null;
}

/**
 * A node's replica of every register, as the replica role needs it.
 * Contract: `putIfNewer` resolves only once every item is durable under the configured
 * durability mode; `read` returns only durable state (never an update still being committed).
 */
export interface RegisterStore {
  /** The stored pair of each address, in order; never-written addresses read as INITIAL. */
  read(addrs: readonly Addr[]): Versioned[];
  /** Up to `limit` stored registers with address > `after` (null: from the start), in address order. */
  list(after: Addr | null, limit: number): RegisterItem[];
  /** Stores each item whose tag is greater than the stored one (ABD replica rule). */
  putIfNewer(items: readonly RegisterItem[]): Promise<void>;
  /** Small durable key/value facts about the node (id, incarnation, members). */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  stats(): StoreStats;
  /** Commits what is pending, then closes. Later calls fail. */
  close(): Promise<void>;
}
