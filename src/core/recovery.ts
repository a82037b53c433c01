import { assert } from './assert.js';
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
}

export type RecoveryEffect =
  | { readonly type: 'fetch'; readonly from: MemberId; readonly after: Addr | null }
  /** Store these items durably (replica rule) before carrying out the effects after it. */
  | { readonly type: 'store'; readonly items: readonly RegisterItem[] }
  /** Enough sources copied: mark the node initialised; its answers count from now on. */
  | { readonly type: 'done'; readonly sources: readonly MemberId[] };

export class Recovery {
  private readonly complete = new Set<MemberId>();
  private finished = false;
  readonly needed: number;
  private readonly others: readonly MemberId[];

  constructor(self: MemberId, members: readonly MemberId[], quorum: number) {
    assert(members.includes(self), 'self is a member');
    this.others = members.filter((m) => m !== self);
    this.needed = recoverySourcesNeeded(members.length, quorum);
  }

  get done(): boolean {
    return this.finished;
  }

  /** Members fully copied so far. */
  get sources(): readonly MemberId[] {
    return [...this.complete];
  }

  start(): RecoveryEffect[] {
    if (this.needed === 0) return this.finish();
    return this.others.map((from) => ({ type: 'fetch', from, after: null }));
  }

  /** A page arrived from `from` (in answer to a fetch). */
  onPage(from: MemberId, page: RegisterPage): RecoveryEffect[] {
    assert(this.others.includes(from), `page from non-member ${from}`);
    if (this.finished || this.complete.has(from)) return [];
    const effects: RecoveryEffect[] = [];
    if (page.initialized && page.items.length > 0) effects.push({ type: 'store', items: page.items });
    if (page.initialized && page.next !== null) {
      effects.push({ type: 'fetch', from, after: page.next });
      return effects;
    }
    this.complete.add(from);
    if (this.complete.size >= this.needed) effects.push(...this.finish());
    return effects;
  }

  private finish(): RecoveryEffect[] {
    this.finished = true;
    return [{ type: 'done', sources: [...this.complete] }];
  }
}
