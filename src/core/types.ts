/**
 * The vocabulary of the ABD protocol. Pure data: no I/O, no clocks, no globals.
 */

/** A register address: a non-negative safe integer. */
export type Addr = number;

/** A register value; `null` only for an address that was never written. */
export type Value = string | null;

/**
 * The writer identity carried in tags. It is the node id plus the node's incarnation
 * (`<nodeId>.<incarnation>`), so a node that crashed mid-write and restarted can never
 * issue the same tag twice with two different values.
 */
export type WriterId = string;

/** Identity of a cluster member as configured: its `host:port` address. */
export type MemberId = string;

/**
 * A logical timestamp, a *carstamp* (docs/rmw.md): ordered by `seq`, then by `writer`, then by
 * `rmwc`. A plain write issues `(seq+1, self)` with rmwc 0; a compare-and-set or add keeps the
 * `(seq, writer)` of the value it read and raises only `rmwc`, so it sorts right after that
 * value and before any later write. `rmwc` is absent when 0 (plain operations carry the
 * same fields, and send the same bytes, as before compare-and-set existed).
 * Contract: two different values are never stored under the same tag.
 */
export interface Tag {
  readonly seq: number;
  readonly writer: WriterId;
  readonly rmwc?: number;
}

/** What a replica stores per address. */
export interface Versioned {
  readonly tag: Tag;
  readonly value: Value;
}

/**
 * A replica's answer for one address of a query: its pair, or why it cannot vouch for that
 * address (a damaged register, docs/storage-integrity.md). An unavailable answer is no
 * answer: the coordinator never counts it.
 */
export type QueryAnswer = Versioned | Unavailable | ValueLost;

export interface Unavailable {
  readonly unavailable: string;
}

export function isUnavailable(a: QueryAnswer): a is Unavailable {
  return (a as Partial<Unavailable>).unavailable !== undefined;
}

/**
 * The replica holds this tag durably, but its value failed its checksum (docs/storage-integrity.md):
 * the tag counts like any tag (the replica did store a pair with it), the value must come from
 * another member. Answered whether or not the value was asked for, so a read can tell.
 */
export interface ValueLost {
  readonly tag: Tag;
  readonly lost: string;
}

export function isValueLost(a: ReplicaAnswer): a is ValueLost {
  return (a as Partial<ValueLost>).lost !== undefined;
}

/** A value the replica withheld from an answer because of its byte budget; the asker fetches it again. */
export interface DeferredValue {
  readonly tag: Tag;
  readonly deferredBytes: number;
}

/** What a replica answers for one address: its pair, a deferred value, or unavailable. */
export type ReplicaAnswer = QueryAnswer | DeferredValue;

export function isDeferred(a: ReplicaAnswer): a is DeferredValue {
  return (a as Partial<DeferredValue>).deferredBytes !== undefined;
}

/**
 * What a query asks of the values, for every address or per address: `values` false means the
 * tag suffices (a write's query; the answer's value is then null and means nothing). Wanted
 * values come up to `budgetBytes` in all, later ones deferred; `oversize` includes the first
 * wanted value whatever its size (so a fetch always makes progress).
 */
export interface ValueWant {
  readonly values: boolean | readonly boolean[];
  readonly budgetBytes: number;
  readonly oversize: boolean;
}

/** Whether the query wants the value of its `i`-th address. */
export function wantsValue(values: boolean | readonly boolean[], i: number): boolean {
  return typeof values === 'boolean' ? values : values[i] === true;
}

/** One register replica item, as sent in an update and returned by a query. */
export interface RegisterItem extends Versioned {
  readonly addr: Addr;
}

/** Client-facing result of a read. */
export interface ReadResult {
  readonly kind: 'read';
  readonly addr: Addr;
  readonly value: Value;
  readonly tag: Tag;
  /** True when the read returned after one round because the quorum already agreed. */
  readonly fastPath: boolean;
}

/** Client-facing result of a write. */
export interface WriteResult {
  readonly kind: 'write';
  readonly addr: Addr;
  readonly tag: Tag;
}

/** Client-facing result of a compare-and-set or add: the value it stored and its carstamp. */
export interface RmwResult {
  readonly kind: 'rmw';
  readonly addr: Addr;
  readonly tag: Tag;
  readonly value: string;
}

export type OpResult = ReadResult | WriteResult | RmwResult;

/**
 * Expected failures of an operation; values, not exceptions. outcome_unknown: a write failed
 * after its update was sent, or an rmw after its accept was sent; it may take effect, now or
 * later. Every other code is definite: the operation did not happen. cas_mismatch,
 * not_a_number and out_of_range: an rmw's change refused the value it read (`current`).
 */
export type OpFailureCode = 'quorum_unavailable' | 'membership_mismatch' | 'shutting_down' | 'outcome_unknown'
  | 'cas_mismatch' | 'not_a_number' | 'out_of_range';

export interface OpFailure {
  readonly code: OpFailureCode;
  readonly message: string;
  /** With a refused change: the value and carstamp it read, durable on a quorum (a linearizable read). */
  readonly current?: Versioned;
}
