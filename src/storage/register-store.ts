import { randomBytes } from 'node:crypto';
import { shouldStore } from '../core/replica.js';
import { tagsEqual } from '../core/tag.js';
import type { AcceptorRow } from '../core/rmw.js';
import type { Addr, RegisterItem, ReplicaAnswer, Tag, ValueWant, Versioned } from '../core/types.js';

/** Snapshot of the store for /status. */
export interface StoreStats {
  readonly addresses: number;
  readonly dbBytes: number;
  readonly commits: number;
  readonly lastBatchItems: number;
  readonly path: string;
  /** The greatest tag this replica stores (null when empty). */
  readonly highestTag: Tag | null;
  /** Addresses whose stored register failed its checksum and is not yet repaired. */
  readonly damaged: number;
}

/** Whether the store can commit: after a disk-full or I/O error, until a commit succeeds again. */
export type StoreHealth =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly sinceMs: number };

/** Where a tags listing starts: after an address, or just before one (the dashboard scrolling up, or to the end). */
export type TagCursor = { readonly after: Addr | null } | { readonly before: Addr | null };

/**
 * What a damaged register lost (docs/storage-integrity.md): its value only (the tag fields pass
 * their checksum: the replica still vouches for the tag), or its tag (nothing of it can be trusted).
 */
export type DamageKind = 'value' | 'tag';

/** One entry of a tags listing (operators and the dashboard): no values. */
export interface TagEntry {
  readonly addr: Addr;
  /** The stored tag; the initial tag when the register's tag is unknown (damaged tag fields). */
  readonly tag: Tag;
  /** The stored register failed its checksum and is not repaired yet. */
  readonly damaged?: true;
}

/**
 * A catch-up position (docs/catch-up.md): every row of `peer`'s change log `log` with a change
 * at or below `position` has been applied here.
 */
export interface CatchUpPosition {
  readonly peer: string;
  readonly log: string;
  readonly position: number;
}

/** Rows changed after a position, in change order (docs/catch-up.md). */
export interface ChangePage {
  /** Tags only (values null), or with values. */
  readonly items: RegisterItem[];
  /** The last change this page covers when more may follow, or null: it reached `head`. */
  readonly next: number | null;
  /** The largest change stamped here, and the id of the sequence (new when it may have gone back). */
  readonly head: number;
  readonly log: string;
  /** How long ago the first row after the position was written (null: none). */
  readonly oldestAgeMs: number | null;
}

/** A new change log id: random, so no two data dirs (or two lives of one) share one. */
export function newChangeLogId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * A node's replica of every register, as the replica role needs it.
 * Contract: `putIfNewer` resolves only once every item is durable under the configured
 * durability mode; reads return only durable state (never an update still being committed),
 * and never a register that fails its checksum (docs/storage-integrity.md): such an address
 * is marked damaged until repaired, and answered with its tag and `lost` (no value) when only
 * its value failed, as unavailable when its tag fields did. Storing an item over a register
 * whose value only was lost lifts the mark.
 * I/O failures are StorageUnavailableError; a damaged register in a page is RegisterDamagedError.
 */
export interface RegisterStore {
  /** The stored answer of each address, in order; never-written addresses read as INITIAL. */
  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[];
  /**
   * Up to `limit` stored registers with address > `after` (null: from the start), in address
   * order, with at most `valueBytesMax` value bytes (always at least one register); `next` is
   * the address to continue after, or null when there is nothing more.
   */
  page(after: Addr | null, limit: number, valueBytesMax: number): { items: RegisterItem[]; next: Addr | null };
  /**
   * Up to `limit` tags, in address order (no values): those with address > `from.after`
   * (null: from the start), or the last `limit` with address < `from.before` (null: of all).
   */
  tags(from: TagCursor, limit: number): TagEntry[];
  /**
   * Stores each item whose tag is greater than the stored one (ABD replica rule); a damaged
   * register is overwritten. Every row written gets the next change number. `position`, when
   * given, is kept in the same transaction (catch-up: never ahead of what is stored).
   */
  putIfNewer(items: readonly RegisterItem[], position?: CatchUpPosition): Promise<void>;
  /**
   * Up to `limit` rows with change > `since`, in change order: tags only (`valueBytesMax`
   * null; registers that fail their checksum are left out), or with values up to that many
   * bytes (at least one row; a damaged one is RegisterDamagedError).
   */
  changes(since: number, limit: number, valueBytesMax: number | null): ChangePage;
  /**
   * The durable acceptor row of each address (docs/rmw.md); NO_ACCEPTOR_ROW where none was
   * stored, undefined where the stored one fails its checksum (that address's Paxos is
   * answered unavailable until a recovery replaces it).
   */
  acceptors(addrs: readonly Addr[]): (AcceptorRow | undefined)[];
  /** Stores acceptor rows, replacing those of their addresses; resolves once durable (in the group commit with register updates). */
  putAcceptors(rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void>;
  /** Registers (the replica rule, as putIfNewer) and acceptor rows in one request of the group commit: an rmw commit. */
  putRmw(items: readonly RegisterItem[], rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void>;
  /** Up to `limit` stored acceptor rows with address > `after`, in address order (recovery copies them). */
  acceptorPage(after: Addr | null, limit: number): { addr: Addr; row: AcceptorRow }[];
  /** The change log id and head. */
  changeLog(): { readonly log: string; readonly head: number };
  /** Makes a new change log id (the sequence may have gone back: a lost WAL); returns it. */
  renewChangeLog(): string;
  /** The catch-up positions kept. */
  positions(): CatchUpPosition[];
  /** Up to `limit` damaged addresses, in order. */
  damagedAddrs(limit: number): Addr[];
  /** Lifts the damage marks of `addrs` (after a repair stored what the other members hold). */
  clearDamaged(addrs: readonly Addr[]): void;
  /** Small durable key/value facts about the node (id, incarnation, members). */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  stats(): StoreStats;
  health(): StoreHealth;
  /** Commits what is pending, then closes. Later calls fail. */
  close(): Promise<void>;
}

/**
 * Whether a store writes `item` over what it holds (docs/storage-integrity.md): the replica
 * rule (only a larger tag), against the stored pair when its tag can be trusted.
 * - `stored` undefined: nothing stored, or a row whose tag fields fail their checksum; its tag
 *   is unknown, so the item replaces it (the address stays marked until repaired).
 * - a trusted row of an address still marked damaged (its value failed, or an update has
 *   rewritten the rotten row since): the replica rule still holds, so an older pair, such as a
 *   repair's that was read from the others before a newer update arrived here, never replaces
 *   a newer one (simulation seed 1630 before this rule); the same tag is rewritten, which heals
 *   a damaged value (one tag, one value).
 */
export function storeDecision(stored: Versioned | undefined, damaged: boolean, item: RegisterItem): boolean {
  if (stored === undefined) return true;
  return shouldStore(stored, item) || (damaged && tagsEqual(stored.tag, item.tag));
}
