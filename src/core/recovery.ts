import { assert } from './assert.js';
import type { AcceptorState } from '../membership/paxos.js';
import type { Addr, MemberId, RegisterItem } from './types.js';

/**
 * Wiped-disk recovery, as a pure state machine (docs/recovery.md).
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
 * that could be lost.
 *
 * A member that is itself recovering is no source once the cluster has served: its data is
 * gone. In a cluster that has never served it has nothing to lose either, which is what lets a
 * brand-new cluster start (all members empty); so every recovering member carries `served`, its
 * evidence that the cluster has served (its own data, an epoch past the founding one, a page of
 * a member with registers, a recovering member that knows), and passes it on in its pages.
 * With more members recovering than a majority tolerates (R >= Q), none can ever finish by
 * itself: the recovery says so (`beyondBudget`) and waits for an operator, who may accept the
 * loss (`acceptLoss`): then it copies whatever the members that still have data hold.
 */

/** How many other members a wiped node must copy from: N-Q+1, capped at N-1. */
export function recoverySourcesNeeded(members: number, quorum: number): number {
  assert(quorum >= 1 && quorum <= members, 'quorum within 1..members');
  return Math.min(members - 1, members - quorum + 1);
}

/** One page of a member's registers, in address order. */
export interface RegisterPage {
  /** False when the member is itself uninitialised or recovering: it is no source. */
  readonly initialized: boolean;
  /**
   * With `initialized` false: whether that member knows the cluster has served clients (its
   * data is gone, not never there). Absent: assume it has (the safe side: a wait, never a loss).
   */
  readonly served?: boolean;
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
  /** Ask `from` for a page; `later`: after a pause (it is recovering itself, ask again). */
  | { readonly type: 'fetch'; readonly from: MemberId; readonly after: Addr | null; readonly pass: Pass; readonly later?: true }
  /** Store these items durably (replica rule) before carrying out the effects after it. */
  | { readonly type: 'store'; readonly items: readonly RegisterItem[] }
  /** Call onFence() once `deadlineMs` plus a margin have passed since the process started (re-armed when it grows). */
  | { readonly type: 'fence'; readonly deadlineMs: number }
  /** This node learned that the cluster has served: keep that durably (a restart must not forget it). */
  | { readonly type: 'served' }
  /**
   * Enough sources copied: mark the node initialised; its answers count from now on.
   * `lossAccepted`: an operator accepted the loss (acceptLoss); `gaveUp` lists the members it did not copy.
   */
  | { readonly type: 'done'; readonly sources: readonly MemberId[]; readonly fenced: boolean; readonly lossAccepted?: true; readonly gaveUp?: readonly MemberId[] };

/**
 * 'probe': the first page of every member, to see whether anything could be lost; 'copy': after
 * the fence; 'accept': after an operator accepted the loss, one fresh round of every member.
 */
export type Pass = 'probe' | 'copy' | 'accept';

/** Broken variants for the simulator's mutation tests. */
export interface RecoveryMutations {
  /** Copy at once, without the fence (what shmem did before seed 1704). */
  readonly recoveryWithoutFence?: boolean;
  /** A recovering member counts as a source with nothing to give, in the probe and the copy (what shmem did before issue 30). */
  readonly recoveringCountsAsEmpty?: boolean;
}

/**
 * Sources one member set asks for: `needed` of its `members` (the other members of the set).
 * During a change of the member set a wiped member copies enough of each counted set: an
 * acknowledged write is on a majority of every set it was counted in (docs/membership.md), and
 * a member that joined and has not had its state transfer holds none of the old set's writes.
 */
export interface SourceGroup {
  readonly members: readonly MemberId[];
  readonly needed: number;
}

/** The sources of one member set `members` for `self`: N-Q+1 of the others when self is in it, else N-Q+1 of all. */
export function sourceGroup(self: MemberId, members: readonly MemberId[]): SourceGroup {
  const quorum = Math.floor(members.length / 2) + 1;
  const others = members.filter((m) => m !== self);
  return { members: others, needed: members.includes(self) ? recoverySourcesNeeded(members.length, quorum) : members.length - quorum + 1 };
}

/** Where a recovery stands, for status, readiness and the log. */
export interface RecoveryState {
  readonly phase: Pass;
  readonly needed: number;
  readonly sources: readonly MemberId[];
  /** The other members whose last page said they are recovering too. */
  readonly recoveringOthers: readonly MemberId[];
  /** No recovering member can finish by itself: more members lost their data than a majority tolerates. */
  readonly beyondBudget: boolean;
  readonly members: number;
  readonly served: boolean;
}

export class Recovery {
  private readonly complete = new Set<MemberId>();
  private readonly quiet = new Set<MemberId>();
  /** Others whose last page said they are recovering (not initialised). */
  private readonly recovering = new Set<MemberId>();
  /** In the accept pass: members given up (recovering, or not answering). */
  private readonly gone = new Set<MemberId>();
  /**
   * Recovering members counted as sources with nothing to give (in the probe: quiet; in the
   * copy: complete) only because nobody had seen the cluster serve: revoked the moment
   * evidence arrives, and asked again.
   */
  private readonly tentative = new Set<MemberId>();
  private finished = false;
  private pass: Pass = 'probe';
  private deadlineMs: number;
  private knowsServed: boolean;
  /** Sources needed of the set that needs the most (status and messages; completion checks each set). */
  readonly needed: number;
  private readonly others: readonly MemberId[];
  private readonly groups: readonly SourceGroup[];
  private readonly memberCount: number;

  /**
   * `members` with `quorum`: one member set (self in it); or `groups`, one per member set counted
   * now (a change of the member set counts two: sourceGroup). `served`: this node already knows
   * the cluster has served (its own data, its epoch, a mark kept by an earlier start).
   */
  constructor(self: MemberId, members: readonly MemberId[] | readonly SourceGroup[], quorum: number, ownDeadlineMs: number, private readonly mutations: RecoveryMutations = {}, served = false) {
    if (members.every((m) => typeof m === 'string')) {
      const flat = members as readonly MemberId[];
      assert(flat.includes(self), 'self is a member');
      this.groups = [{ members: flat.filter((m) => m !== self), needed: recoverySourcesNeeded(flat.length, quorum) }];
      this.memberCount = flat.length;
    } else {
      this.groups = members as readonly SourceGroup[];
      this.memberCount = new Set(this.groups.flatMap((g) => g.members)).size + 1;
    }
    assert(this.groups.length >= 1 && this.groups.every((g) => !g.members.includes(self) && g.needed <= g.members.length), 'source groups within their members');
    this.others = [...new Set(this.groups.flatMap((g) => g.members))];
    this.needed = Math.max(...this.groups.map((g) => g.needed));
    this.deadlineMs = ownDeadlineMs;
    this.knowsServed = served;
  }

  /** Enough sources of every member set are in `have`. */
  private enough(have: ReadonlySet<MemberId>): boolean {
    return this.groups.every((g) => g.members.filter((m) => have.has(m)).length >= g.needed);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Which pass runs: the probe, the copy after the fence, or the copy after an accepted loss. */
  get phase(): Pass {
    return this.pass;
  }

  /** Members fully copied so far. */
  get sources(): readonly MemberId[] {
    return [...this.complete];
  }

  /** Whether this node knows the cluster has served (it says so in its own pages while it recovers). */
  get served(): boolean {
    return this.knowsServed;
  }

  /**
   * Even if every other member that is not recovering answered, fewer than N-Q+1 would be left:
   * R >= Q, in a cluster that has served (in one that has not, recovering members have nothing to
   * lose: a new cluster whose members are still starting).
   */
  get beyondBudget(): boolean {
    return !this.finished && this.knowsServed && this.groups.some((g) => g.members.filter((m) => !this.recovering.has(m)).length < g.needed);
  }

  state(): RecoveryState {
    return {
      phase: this.pass, needed: this.needed, sources: this.sources, recoveringOthers: [...this.recovering],
      beyondBudget: this.beyondBudget, members: this.memberCount, served: this.knowsServed,
    };
  }

  start(): RecoveryEffect[] {
    if (this.groups.every((g) => g.needed === 0)) return this.finish(false);
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
    if (page.initialized) this.recovering.delete(from);
    else this.recovering.add(from);
    const effects = this.learnServed(page);
    if (pass === 'probe') return [...effects, ...this.onProbe(from, page)];
    if (pass === 'copy') return [...effects, ...this.onCopy(from, page)];
    return [...effects, ...this.onAcceptPage(from, page)];
  }

  /** The fence has passed: copy from the others now. */
  onFence(): RecoveryEffect[] {
    if (this.finished || this.pass !== 'probe') return [];
    this.pass = 'copy';
    return this.others.map((from) => ({ type: 'fetch', from, after: null, pass: 'copy' }));
  }

  /**
   * An operator accepts that the data of the recovering members is lost (docs/recovery.md).
   * Refused (a reason) unless this recovery is beyond the budget: a member that can still finish
   * by itself is never told to lose data. Accepted: one fresh round of every other member; those
   * that answer as initialised replicas are copied to the end, the others given up, then done.
   */
  acceptLoss(): RecoveryEffect[] | string {
    if (this.finished) return 'this member is not recovering';
    if (this.pass === 'accept') return 'this member is already finishing with the loss accepted';
    if (!this.beyondBudget) {
      return `this member can still recover by itself: of the ${this.others.length} other members it needs ${this.needed}, and ${this.others.length - this.recovering.size} of them are not known to be recovering`;
    }
    this.pass = 'accept';
    this.complete.clear();
    return this.others.map((from) => ({ type: 'fetch', from, after: null, pass: 'accept' }));
  }

  /** In the accept pass: `from` did not answer; it is given up. */
  onUnreachable(from: MemberId, pass: Pass): RecoveryEffect[] {
    if (this.finished || pass !== 'accept' || this.pass !== 'accept') return [];
    this.gone.add(from);
    return this.finishAccepted();
  }

  /**
   * Evidence that the cluster has served: an initialised member that holds registers, or a
   * recovering one that knows it has. (Operations in flight are not: in a new cluster the first
   * clients' writes are in flight before any member can acknowledge them.) Once known, every
   * recovering member counted as empty so far is revoked and asked again.
   */
  private learnServed(page: RegisterPage): RecoveryEffect[] {
    if (this.knowsServed) return [];
    const evidence = page.initialized ? page.items.length > 0 || page.next !== null : page.served !== false;
    if (!evidence) return [];
    this.knowsServed = true;
    const effects: RecoveryEffect[] = [{ type: 'served' }];
    if (this.mutations.recoveringCountsAsEmpty) return effects;
    for (const m of this.tentative) {
      this.quiet.delete(m);
      if (this.complete.delete(m) && this.pass === 'copy') effects.push({ type: 'fetch', from: m, after: null, pass: 'copy', later: true });
    }
    this.tentative.clear();
    return effects;
  }

  private onProbe(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    const effects: RecoveryEffect[] = [];
    if (page.opDeadlineMs !== undefined && page.opDeadlineMs > this.deadlineMs) {
      this.deadlineMs = page.opDeadlineMs;
      effects.push({ type: 'fence', deadlineMs: this.deadlineMs });
    }
    if (this.nothingToLose(page)) {
      this.quiet.add(from);
      if (!page.initialized) this.tentative.add(from);
    } else {
      this.quiet.delete(from);
    }
    if (this.quiet.size === this.others.length) effects.push(...this.finish(false));
    return effects;
  }

  /**
   * Nothing this member could hold is lost: it is initialised with no registers and nothing in
   * flight, or it is recovering in a cluster that (as far as both know) has never served (a
   * count that is revoked if evidence comes later: learnServed).
   */
  private nothingToLose(page: RegisterPage): boolean {
    if (page.initialized) return page.items.length === 0 && page.next === null && page.busy === false;
    return this.mutations.recoveringCountsAsEmpty === true || (!this.knowsServed && page.served === false);
  }

  private onCopy(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    if (this.complete.has(from)) return [];
    if (!page.initialized) {
      // Recovering itself, in a cluster nobody has seen serve (a new one): nothing to give, for now.
      if (this.nothingToLose(page)) {
        this.tentative.add(from);
        return this.completeSource(from);
      }
      // Recovering itself: no source; ask again later, from the start (it may come back as a replica).
      return [{ type: 'fetch', from, after: null, pass: 'copy', later: true }];
    }
    this.tentative.delete(from);
    const effects: RecoveryEffect[] = [];
    if (page.items.length > 0) effects.push({ type: 'store', items: page.items });
    if (page.next !== null) {
      effects.push({ type: 'fetch', from, after: page.next, pass: 'copy' });
      return effects;
    }
    return [...effects, ...this.completeSource(from)];
  }

  private completeSource(from: MemberId): RecoveryEffect[] {
    this.complete.add(from);
    return this.enough(this.complete) ? this.finish(true) : [];
  }

  private onAcceptPage(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    if (this.complete.has(from) || this.gone.has(from)) return [];
    if (!page.initialized) {
      this.gone.add(from);
      return this.finishAccepted();
    }
    const effects: RecoveryEffect[] = [];
    if (page.items.length > 0) effects.push({ type: 'store', items: page.items });
    if (page.next !== null) {
      effects.push({ type: 'fetch', from, after: page.next, pass: 'accept' });
      return effects;
    }
    this.complete.add(from);
    return [...effects, ...this.finishAccepted()];
  }

  private finishAccepted(): RecoveryEffect[] {
    if (this.complete.size + this.gone.size < this.others.length) return [];
    this.finished = true;
    return [{ type: 'done', sources: [...this.complete], fenced: true, lossAccepted: true, gaveUp: [...this.gone] }];
  }

  private finish(fenced: boolean): RecoveryEffect[] {
    this.finished = true;
    return [{ type: 'done', sources: fenced ? [...this.complete] : [...this.quiet], fenced }];
  }
}
