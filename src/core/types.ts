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
 * A logical timestamp, ordered by `seq`, then by `writer`.
 * Contract: two different values are never stored under the same tag.
 */
export interface Tag {
  readonly seq: number;
  readonly writer: WriterId;
}

/** What a replica stores per address. */
export interface Versioned {
  readonly tag: Tag;
  readonly value: Value;
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

export type OpResult = ReadResult | WriteResult;

/** Expected failures of an operation; values, not exceptions. */
export type OpFailureCode = 'quorum_unavailable' | 'membership_mismatch' | 'shutting_down';

export interface OpFailure {
  readonly code: OpFailureCode;
  readonly message: string;
}
