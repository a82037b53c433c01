import { assert } from '../core/assert.js';
import { majority } from '../core/quorum.js';
import type { Configuration } from './configuration.js';

/**
 * Single-decree Paxos, as pure functions and a pure proposer: the members of configuration e
 * agree on configuration e+1 (docs/membership.md, "Agree"). Nothing else in shmem needs
 * consensus; reads and writes stay leaderless ABD.
 *
 * The acceptor's state must be durable before its reply leaves (the node stores it in the
 * data dir), or a restarted acceptor could promise or accept twice.
 */

/** Ballots are ordered by round, then node id; each proposer uses its own node id. */
export interface Ballot {
  readonly round: number;
  readonly node: string;
}

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

export interface Accepted {
  readonly ballot: Ballot;
  readonly value: Configuration;
}

/** What one acceptor keeps for the decision of `slot` (the epoch being chosen). */
export interface AcceptorState {
  readonly slot: number;
  readonly promised: Ballot | null;
  readonly accepted: Accepted | null;
}

export const NO_ACCEPTOR_STATE: AcceptorState = { slot: 0, promised: null, accepted: null };

/**
 * The acceptor state a member takes on after recovering a wiped data dir: what the copied
 * members hold for the newest slot among them, as if it had promised the highest ballot and
 * accepted the highest-ballot value they did. A lost promise or acceptance can break Paxos
 * (simulation seed 9991: the proposer was wiped right after choosing epoch 2, and its empty
 * acceptor helped a second proposer choose another epoch 2). Every promise or acceptance it
 * gave that a proposer counted is also on Q-1 others (after the recovery fence, which outlasts
 * any proposer's phase), and the N-Q+1 copied members include one of them; taking on a
 * promise or an acceptance another acceptor really gave only makes it refuse more, and
 * reports a value that was really proposed at that ballot.
 */
export function acceptorAfterRecovery(own: AcceptorState, copied: readonly AcceptorState[]): AcceptorState {
  const all = [own, ...copied];
  const slot = Math.max(...all.map((s) => s.slot));
  let promised: Ballot | null = null;
  let accepted: Accepted | null = null;
  for (const s of all) {
    if (s.slot !== slot) continue;
    if (s.promised !== null && (promised === null || compareBallots(s.promised, promised) > 0)) promised = s.promised;
    if (s.accepted !== null && (accepted === null || compareBallots(s.accepted.ballot, accepted.ballot) > 0)) accepted = s.accepted;
  }
  if (accepted !== null && (promised === null || compareBallots(accepted.ballot, promised) > 0)) promised = accepted.ballot;
  return { slot, promised, accepted };
}

export type PrepareReply =
  | { readonly type: 'promise'; readonly accepted: Accepted | null }
  | { readonly type: 'reject'; readonly promised: Ballot };
export type AcceptReply = { readonly type: 'accepted' } | { readonly type: 'reject'; readonly promised: Ballot };

/** The acceptor's state for `slot`: a newer slot starts afresh (the older decision is over). */
function forSlot(state: AcceptorState, slot: number): AcceptorState {
  assert(slot >= state.slot, `slot ${slot} is older than the acceptor's ${state.slot} (the node answers that itself)`);
  return slot > state.slot ? { slot, promised: null, accepted: null } : state;
}

/** Phase 1b: promise never to accept a lower ballot, and report what was accepted. */
export function onPrepare(state: AcceptorState, slot: number, ballot: Ballot): { state: AcceptorState; reply: PrepareReply } {
  const s = forSlot(state, slot);
  if (s.promised !== null && compareBallots(ballot, s.promised) < 0) return { state: s, reply: { type: 'reject', promised: s.promised } };
  return { state: { ...s, promised: ballot }, reply: { type: 'promise', accepted: s.accepted } };
}

/** Phase 2b: accept unless a higher ballot was promised. */
export function onAccept(state: AcceptorState, slot: number, ballot: Ballot, value: Configuration): { state: AcceptorState; reply: AcceptReply } {
  const s = forSlot(state, slot);
  if (s.promised !== null && compareBallots(ballot, s.promised) < 0) return { state: s, reply: { type: 'reject', promised: s.promised } };
  return { state: { slot: s.slot, promised: ballot, accepted: { ballot, value } }, reply: { type: 'accepted' } };
}

export type ProposerEffect =
  | { readonly type: 'prepare'; readonly to: readonly string[]; readonly slot: number; readonly ballot: Ballot }
  | { readonly type: 'accept'; readonly to: readonly string[]; readonly slot: number; readonly ballot: Ballot; readonly value: Configuration }
  /** Chosen: a majority accepted `value` at one ballot. `ours` is false when an earlier proposal won. */
  | { readonly type: 'chosen'; readonly value: Configuration; readonly ours: boolean }
  /** A majority promised a higher ballot: retry with a round above `promised.round` (or give up). */
  | { readonly type: 'outbid'; readonly promised: Ballot };

/** A broken variant for the tests that must catch it. */
export interface PaxosMutations {
  /** Skip phase 1: send accept with our own value at once (two proposers can both win). */
  readonly skipPrepare?: boolean;
}

/**
 * One attempt to choose a value for `slot` at `ballot`. Feed it the replies; it returns what
 * to send next. A new attempt (higher round) is a new Proposer.
 */
export class Proposer {
  private phase: 'prepare' | 'accept' | 'done' = 'prepare';
  private readonly promises = new Map<string, Accepted | null>();
  private readonly accepts = new Set<string>();
  private readonly rejects = new Map<string, Ballot>();
  private chosenValue: Configuration;
  private readonly needed: number;

  constructor(
    private readonly acceptors: readonly string[],
    private readonly slot: number,
    private readonly ballot: Ballot,
    private readonly value: Configuration,
    private readonly mutations: PaxosMutations = {},
  ) {
    assert(acceptors.length >= 1 && new Set(acceptors).size === acceptors.length, 'distinct acceptors');
    assert(value.epoch === slot, `the value for slot ${slot} is configuration ${slot}, got ${value.epoch}`);
    this.needed = majority(acceptors.length);
    this.chosenValue = value;
  }

  start(): ProposerEffect[] {
    if (this.mutations.skipPrepare) {
      this.phase = 'accept';
      return [{ type: 'accept', to: this.acceptors, slot: this.slot, ballot: this.ballot, value: this.value }];
    }
    return [{ type: 'prepare', to: this.acceptors, slot: this.slot, ballot: this.ballot }];
  }

  onPrepareReply(from: string, reply: PrepareReply): ProposerEffect[] {
    assert(this.acceptors.includes(from), `reply from non-acceptor ${from}`);
    if (this.phase !== 'prepare') return [];
    if (reply.type === 'reject') return this.rejected(from, reply.promised);
    this.promises.set(from, reply.accepted);
    if (this.promises.size < this.needed) return [];
    // The value accepted at the highest ballot among a majority may already be chosen: propose it.
    let highest: Accepted | null = null;
    for (const a of this.promises.values()) if (a !== null && (highest === null || compareBallots(a.ballot, highest.ballot) > 0)) highest = a;
    this.chosenValue = highest?.value ?? this.value;
    this.phase = 'accept';
    return [{ type: 'accept', to: this.acceptors, slot: this.slot, ballot: this.ballot, value: this.chosenValue }];
  }

  onAcceptReply(from: string, reply: AcceptReply): ProposerEffect[] {
    assert(this.acceptors.includes(from), `reply from non-acceptor ${from}`);
    if (this.phase !== 'accept') return [];
    if (reply.type === 'reject') return this.rejected(from, reply.promised);
    this.accepts.add(from);
    if (this.accepts.size < this.needed) return [];
    this.phase = 'done';
    return [{ type: 'chosen', value: this.chosenValue, ours: this.chosenValue === this.value }];
  }

  private rejected(from: string, promised: Ballot): ProposerEffect[] {
    this.rejects.set(from, promised);
    // Give up once a majority can no longer be reached at this ballot.
    if (this.acceptors.length - this.rejects.size >= this.needed) return [];
    this.phase = 'done';
    let max = promised;
    for (const b of this.rejects.values()) if (compareBallots(b, max) > 0) max = b;
    return [{ type: 'outbid', promised: max }];
  }
}
