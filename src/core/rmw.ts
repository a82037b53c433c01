import { compareBallots, type Ballot } from '../membership/paxos.js';
import { compareTags, tagsEqual } from './tag.js';
import type { Addr, RegisterItem, Tag, Unavailable, Value, Versioned } from './types.js';

/**
 * Compare-and-set and add as single-decree Paxos per address (docs/rmw.md): the acceptor's
 * rule and the change functions, as pure functions. The proposer is the Coordinator's rmw op.
 */

export type { Ballot } from '../membership/paxos.js';
export { compareBallots } from '../membership/paxos.js';

/**
 * A proposal an acceptor accepted: at `ballot`, the value `value` under carstamp `tag`.
 * `origin`: the ballot it was first proposed at, kept when another proposer finishes it, so
 * its own proposer can tell it from another value at the same carstamp. `baseOrigin`: the
 * origin of the rmw result it was computed from, when its proposer knew it (null: a plain
 * write's value, the initial one, or not known), so a proposer whose own result was built upon
 * can tell that it was chosen (docs/rmw.md, "Preempted after the accept").
 */
export interface Acceptance {
  readonly ballot: Ballot;
  readonly tag: Tag;
  readonly value: string;
  readonly origin: Ballot;
  readonly baseOrigin: Ballot | null;
}

/** The newest rmw result this member stored through a commit, with the origin of its proposal. */
export interface Committed {
  readonly tag: Tag;
  readonly origin: Ballot;
}

/** What an acceptor keeps per address: durable before any answer that depends on it leaves. */
export interface AcceptorRow {
  readonly promised: Ballot | null;
  readonly accepted: Acceptance | null;
  /** The newest rmw results this member stored through commits, oldest first (at most limits.rmwCommitHistory). */
  readonly commits: readonly Committed[];
}

export const NO_ACCEPTOR_ROW: AcceptorRow = Object.freeze({ promised: null, accepted: null, commits: Object.freeze([]) as readonly Committed[] });

/**
 * One message of the rmw Paxos to one member (POST /peer/rmw carries a batch). A commit stores a
 * chosen result as a register (the replica rule) and notes its origin.
 */
export type RmwMessage =
  | { readonly op: 'prepare'; readonly addr: Addr; readonly ballot: Ballot }
  | { readonly op: 'accept'; readonly addr: Addr; readonly ballot: Ballot; readonly item: RegisterItem; readonly origin: Ballot; readonly baseOrigin: Ballot | null }
  | { readonly op: 'commit'; readonly addr: Addr; readonly item: RegisterItem; readonly origin: Ballot };

/**
 * An acceptor's answer: a promise (with what it accepted and its register, so the proposer
 * can choose the base), an acceptance, a higher ballot it promised, or `unavailable` (a damaged
 * register or acceptor row, or a value over the answer's byte budget: asked again later).
 */
export type RmwAnswer =
  /** `lost`: the register's value failed its checksum here; its tag counts, its value (null) must come from another member. */
  | { readonly promise: true; readonly accepted: Acceptance | null; readonly register: Versioned; readonly commits: readonly Committed[]; readonly lost?: true }
  | { readonly accepted: true }
  | { readonly committed: true }
  | { readonly preempted: Ballot }
  | Unavailable;

/** A promise, as the proposer gets it. */
export type Promise_ = Extract<RmwAnswer, { promise: true }>;

export function isPromise(a: RmwAnswer): a is Promise_ {
  return (a as { promise?: unknown }).promise === true;
}

export function sameBallot(a: Ballot | null, b: Ballot | null): boolean {
  return a !== null && b !== null && compareBallots(a, b) === 0;
}

export function isPreempted(a: RmwAnswer): a is Extract<RmwAnswer, { preempted: Ballot }> {
  return (a as { preempted?: unknown }).preempted !== undefined;
}

/** Deliberately broken acceptor variants, switched on only by the simulator's mutation tests. */
export interface AcceptorMutations {
  /** Accept whatever ballot comes, promised or not. */
  readonly acceptAnyBallot?: boolean;
}

/**
 * The acceptor's rule (Paxos phases 1b and 2b): promise or accept unless a higher ballot was
 * promised; an equal ballot is the same proposer asking again (a retried request). Returns the
 * row to store (the same object when nothing changes) and the answer without the register,
 * which the replica adds from its store.
 */
export function acceptorStep(
  row: AcceptorRow, msg: Exclude<RmwMessage, { op: 'commit' }>, mutations: AcceptorMutations = {},
): { row: AcceptorRow; answer: { promise: true; accepted: Acceptance | null; commits: readonly Committed[] } | { accepted: true } | { preempted: Ballot } } {
  const higher = row.promised !== null && compareBallots(msg.ballot, row.promised) < 0;
  if (higher && !(mutations.acceptAnyBallot && msg.op === 'accept')) return { row, answer: { preempted: row.promised! } };
  if (msg.op === 'prepare') {
    const same = row.promised !== null && compareBallots(msg.ballot, row.promised) === 0;
    return { row: same ? row : { ...row, promised: msg.ballot }, answer: { promise: true, accepted: row.accepted, commits: row.commits } };
  }
  // The same accept again (a retried request): nothing to store.
  const a = row.accepted;
  if (a !== null && compareBallots(a.ballot, msg.ballot) === 0 && tagsEqual(a.tag, msg.item.tag) && a.value === msg.item.value) return { row, answer: { accepted: true } };
  const accepted: Acceptance = { ballot: msg.ballot, tag: msg.item.tag, value: msg.item.value!, origin: msg.origin, baseOrigin: msg.baseOrigin };
  const promised = higher ? row.promised : msg.ballot;
  return { row: { ...row, promised, accepted }, answer: { accepted: true } };
}

/**
 * The row after a commit of `tag` whose proposal began at `origin`: it joins the newest
 * `keep` commits, in carstamp order (one carstamp, one chosen value: a repeated commit changes nothing).
 */
export function afterCommit(row: AcceptorRow, tag: Tag, origin: Ballot, keep: number): AcceptorRow {
  if (row.commits.some((c) => tagsEqual(c.tag, tag))) return row;
  return { ...row, commits: mergeCommits([row.commits, [{ tag, origin }]], keep) };
}

/** The newest `keep` distinct commits of several histories, oldest first. */
function mergeCommits(histories: readonly (readonly Committed[])[], keep: number): readonly Committed[] {
  const all = new Map<string, Committed>();
  for (const h of histories) for (const c of h) all.set(`${c.tag.seq}/${c.tag.writer}/${c.tag.rmwc ?? 0}`, c);
  return [...all.values()].sort((a, b) => compareTags(a.tag, b.tag)).slice(-keep);
}

/**
 * The acceptor row a member takes on after recovering a wiped data dir, per address: the
 * highest promise and the highest-ballot acceptance of its own and the copied members' rows
 * (membership/paxos.ts acceptorAfterRecovery gives the argument, docs/rmw.md the rmw case).
 */
export function mergeAcceptorRows(rows: readonly AcceptorRow[], keep: number): AcceptorRow {
  let promised: Ballot | null = null;
  let accepted: Acceptance | null = null;
  for (const r of rows) {
    if (r.promised !== null && (promised === null || compareBallots(r.promised, promised) > 0)) promised = r.promised;
    if (r.accepted !== null && (accepted === null || compareBallots(r.accepted.ballot, accepted.ballot) > 0)) accepted = r.accepted;
  }
  if (accepted !== null && (promised === null || compareBallots(accepted.ballot, promised) > 0)) promised = accepted.ballot;
  return { promised, accepted, commits: mergeCommits(rows.map((r) => r.commits), keep) };
}

/** A page of acceptor rows in address order (a wiped member's recovery copies them); `next`: where to go on, null at the end. */
export interface AcceptorPage {
  readonly items: readonly { readonly addr: Addr; readonly row: AcceptorRow }[];
  readonly next: Addr | null;
}

/** What a compare-and-set compares the current value with: the value (null: never written) or the tag a read returned. */
export type CasExpectation = { readonly value: Value } | { readonly tag: Tag };

/** The change an rmw applies to the value it reads (CASPaxos's change function). */
export type RmwChange =
  | { readonly kind: 'cas'; readonly expect: CasExpectation; readonly value: string }
  | { readonly kind: 'add'; readonly delta: number };

/** Why a change refused (409): nothing was changed. */
export type RefusalCode = 'cas_mismatch' | 'not_a_number' | 'out_of_range';

export type ChangeOutcome =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly code: RefusalCode; readonly message: string };

/** A decimal integer as add takes it: no sign on 0, no leading zeros, no spaces, within ±(2^53−1). */
const DECIMAL = /^(0|-?[1-9][0-9]{0,15})$/;

/** The integer `value` holds for add (never written: 0), or null when it holds something else. */
export function counterValue(value: Value): number | null {
  if (value === null) return 0;
  if (!DECIMAL.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** Applies `change` to `base`, the value the rmw read (docs/rmw.md step 3). */
export function applyChange(change: RmwChange, base: Versioned): ChangeOutcome {
  if (change.kind === 'cas') {
    const e = change.expect;
    const matches = 'tag' in e ? tagsEqual(e.tag, base.tag) : e.value === base.value;
    if (!matches) {
      const message = 'tag' in e ? 'the current tag is not the one expected'
        : e.value === null ? 'expected never written, but the address holds a value' : 'the current value is not the one expected';
      return { ok: false, code: 'cas_mismatch', message };
    }
    return { ok: true, value: change.value };
  }
  const n = counterValue(base.value);
  if (n === null) return { ok: false, code: 'not_a_number', message: 'the current value is not a decimal integer; add changes only integers (or a never-written address, read as 0)' };
  const sum = n + change.delta;
  if (!Number.isSafeInteger(sum)) {
    return { ok: false, code: 'out_of_range', message: `${n} + ${change.delta} is past ±(2^53−1), the range add keeps exact` };
  }
  return { ok: true, value: String(sum) };
}
