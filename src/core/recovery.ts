import { assert } from './assert.js';
import type { AcceptorState } from '../membership/paxos.js';
import type { Addr, MemberId, RegisterItem } from './types.js';

/**
 * Wiped-disk recovery, as a pure state machine.
 *
 * A node that starts with an empty data dir may have acknowledged writes before it lost
 * them; if its empty answers counted in quorums, a read could miss an acknowledged write.
 * So it does not answer as a replica until it has copied the registers of enough other
 * members. An acknowledged write is on at least Q members, so on at least Q-1 of the N-1
 * others (only this node lost it); reading N-Q+1 others therefore includes one that has it.
 * N-Q+1 is a majority of the other members for every N >= 2.
 *
 * That count only holds for writes that were acknowledged before the copy read them. A
 * write still in flight may already have counted an acknowledgement the lost data dir gave,
 * and complete after the copy, on Q-1 members only (simulation seed 1704: the coordinator's own
 * commit was slow; it finished after the wiped member had copied both others). So the copy
 * waits out a fence first: every operation that could count an old acknowledgement started
 * before this process did, and none is answered ok past its deadline (Runtime), so once the
 * longest deadline of the members (plus a margin for clock rates) has passed since this
 * process started, each of them has completed, and is on the members it copies, or never
 * will. The fence is skipped only when a first probe of every other member shows nothing
 * that could be lost: each is uninitialised, or initialised with no registers and no
 * operation in flight (a brand-new cluster, whose members start within moments of each other).
 *
 * Assumption: at most one member is recovering (or was wiped) at a time. A member that is
 * itself uninitialised answers "not initialised"; it counts as a source with nothing to
 * give, which is what makes a brand-new cluster able to start (all members empty).
 */

/** How many other members a wiped node must copy from: N-Q+1, capped at N-1. */
export function recoverySourcesNeeded(members: number, quorum: number): number {
  assert(quorum >= 1 && quorum <= members, 'quorum within 1..members');
  return Math.min(members - 1, members - quorum + 1);
}

/** One page of a member's registers, in address order. */
export interface RegisterPage {
  /** False when the member is itself uninitialised or recovering: it has nothing to give. */
  readonly initialized: boolean;
  readonly items: readonly RegisterItem[];
  /** Address to continue after, or null when this was the last page. */
  readonly next: Addr | null;
  /** The member coordinates operations right now (absent: treat as busy). */
  readonly busy?: boolean;
  /** The member's operation deadline (absent: assume the recovering member's own). */
  readonly opDeadlineMs?: number;
  /** The member's Paxos acceptor state (with member changes): a wiped member takes it on (membership/paxos.ts). */
  readonly acceptor?: AcceptorState;
}

export type RecoveryEffect =
  | { readonly type: 'fetch'; readonly from: MemberId; readonly after: Addr | null; readonly pass: Pass }
  /** Store these items durably (replica rule) before carrying out the effects after it. */
  | { readonly type: 'store'; readonly items: readonly RegisterItem[] }
  /** Call onFence() once `deadlineMs` plus a margin have passed since the process started (re-armed when it grows). */
  | { readonly type: 'fence'; readonly deadlineMs: number }
  /** Enough sources copied: mark the node initialised; its answers count from now on. */
  | { readonly type: 'done'; readonly sources: readonly MemberId[]; readonly fenced: boolean };

/** 'probe': the first page of every member, to see whether anything could be lost; 'copy': after the fence. */
export type Pass = 'probe' | 'copy';

/** A broken variant for the simulator's mutation tests. */
export interface RecoveryMutations {
  /** Copy at once, without the fence (what shmem did before seed 1704). */
  readonly recoveryWithoutFence?: boolean;
}

export class Recovery {
  private readonly complete = new Set<MemberId>();
  private readonly quiet = new Set<MemberId>();
  private finished = false;
  private pass: Pass = 'probe';
  private deadlineMs: number;
  readonly needed: number;
  private readonly others: readonly MemberId[];

  constructor(self: MemberId, members: readonly MemberId[], quorum: number, ownDeadlineMs: number, private readonly mutations: RecoveryMutations = {}) {
    assert(members.includes(self), 'self is a member');
    this.others = members.filter((m) => m !== self);
    this.needed = recoverySourcesNeeded(members.length, quorum);
    this.deadlineMs = ownDeadlineMs;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Which pass runs: the probe, or the copy after the fence. */
  get phase(): Pass {
    return this.pass;
  }

  /** Members fully copied so far. */
  get sources(): readonly MemberId[] {
    return [...this.complete];
  }

  start(): RecoveryEffect[] {
    if (this.needed === 0) return this.finish(false);
    if (this.mutations.recoveryWithoutFence) return this.onFence();
    return [
      { type: 'fence', deadlineMs: this.deadlineMs },
      ...this.others.map((from): RecoveryEffect => ({ type: 'fetch', from, after: null, pass: 'probe' })),
    ];
  }

  /** A page arrived from `from`, in answer to a fetch of `pass`. */
  onPage(from: MemberId, page: RegisterPage, pass: Pass): RecoveryEffect[] {
    assert(this.others.includes(from), `page from non-member ${from}`);
    if (this.finished || pass !== this.pass) return [];
    return pass === 'probe' ? this.onProbe(from, page) : this.onCopy(from, page);
  }

  /** The fence has passed: copy from the others now. */
  onFence(): RecoveryEffect[] {
    if (this.finished || this.pass === 'copy') return [];
    this.pass = 'copy';
    return this.others.map((from) => ({ type: 'fetch', from, after: null, pass: 'copy' }));
  }

  private onProbe(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    const effects: RecoveryEffect[] = [];
    if (page.opDeadlineMs !== undefined && page.opDeadlineMs > this.deadlineMs) {
      this.deadlineMs = page.opDeadlineMs;
      effects.push({ type: 'fence', deadlineMs: this.deadlineMs });
    }
    const nothingToLose = !page.initialized || (page.items.length === 0 && page.next === null && page.busy === false);
    if (nothingToLose) this.quiet.add(from);
    if (this.quiet.size === this.others.length) effects.push(...this.finish(false));
    return effects;
  }

  private onCopy(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    if (this.complete.has(from)) return [];
    const effects: RecoveryEffect[] = [];
    if (page.initialized && page.items.length > 0) effects.push({ type: 'store', items: page.items });
    if (page.initialized && page.next !== null) {
      effects.push({ type: 'fetch', from, after: page.next, pass: 'copy' });
      return effects;
    }
    this.complete.add(from);
    if (this.complete.size >= this.needed) effects.push(...this.finish(true));
    return effects;
  }

  private finish(fenced: boolean): RecoveryEffect[] {
    this.finished = true;
    return [{ type: 'done', sources: fenced ? [...this.complete] : [...this.quiet], fenced }];
  }
}
