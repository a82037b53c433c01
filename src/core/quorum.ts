import { assert } from './assert.js';
import type { MemberId } from './types.js';

/** Size of a majority of `n` members: floor(n/2)+1. */
export function majority(n: number): number {
  assert(Number.isInteger(n) && n >= 1, `cluster size must be a positive integer, got ${n}`);
  return Math.floor(n / 2) + 1;
}

export type QuorumState = 'pending' | 'reached' | 'impossible';

/**
 * Counts distinct answers from members towards a quorum. Duplicated answers (a retried
 * request answered twice) count once; answers from non-members are a bug.
 * `impossible` means too many members refused for the quorum to be reached at all.
 */
export class QuorumTracker {
  private readonly answered = new Set<MemberId>();
  private readonly refused = new Set<MemberId>();

  constructor(
    private readonly members: readonly MemberId[],
    readonly needed: number,
  ) {
    assert(needed >= 1 && needed <= members.length, `quorum ${needed} outside 1..${members.length}`);
  }

  /** Records an answer; returns true when it was the first from `from`. */
  answer(from: MemberId): boolean {
    assert(this.members.includes(from), `answer from non-member ${from}`);
    if (this.answered.has(from) || this.refused.has(from)) return false;
    this.answered.add(from);
    return true;
  }

  /** Records that `from` will never answer (for example: it has a different member set). */
  refuse(from: MemberId): void {
    assert(this.members.includes(from), `refusal from non-member ${from}`);
    if (!this.answered.has(from)) this.refused.add(from);
  }

  get count(): number {
    return this.answered.size;
  }

  get state(): QuorumState {
    if (this.answered.size >= this.needed) return 'reached';
    if (this.members.length - this.refused.size < this.needed) return 'impossible';
    return 'pending';
  }
}

/**
 * A quorum in every one of several member sets at once: during a change of the member set
 * each phase needs a majority of the old set AND of the new one (docs/membership.md; etcd's
 * quorum/joint.go). An answer counts in every set that contains its sender. Reached when every
 * set's quorum is; impossible as soon as one set's is.
 */
export class JointQuorumTracker {
  private readonly parts: readonly QuorumTracker[];
  private readonly sets: readonly (readonly MemberId[])[];

  constructor(groups: readonly { readonly members: readonly MemberId[]; readonly needed: number }[]) {
    assert(groups.length >= 1, 'a joint quorum needs at least one member set');
    this.sets = groups.map((g) => g.members);
    this.parts = groups.map((g) => new QuorumTracker(g.members, g.needed));
  }

  /** Records an answer; returns true when it was the first from `from`. */
  answer(from: MemberId): boolean {
    if (this.parts.length === 1) return this.parts[0]!.answer(from); // the stable case, on every reply
    let counted = false;
    let known = false;
    for (let i = 0; i < this.parts.length; i++) {
      if (!this.sets[i]!.includes(from)) continue;
      known = true;
      if (this.parts[i]!.answer(from)) counted = true;
    }
    assert(known, `answer from non-member ${from}`);
    return counted;
  }

  refuse(from: MemberId): void {
    for (let i = 0; i < this.parts.length; i++) if (this.sets[i]!.includes(from)) this.parts[i]!.refuse(from);
  }

  get state(): QuorumState {
    let reached = true;
    for (const t of this.parts) {
      const s = t.state;
      if (s === 'impossible') return 'impossible';
      if (s !== 'reached') reached = false;
    }
    return reached ? 'reached' : 'pending';
  }

  /** Answers counted per member set, as "2/3 and 1/5": for error messages. */
  describe(): string {
    return this.parts.map((t, i) => `${t.count}/${this.sets[i]!.length}`).join(' and ');
  }

  /** Answers needed per member set, as "2 and 3". */
  describeNeeded(): string {
    return this.parts.map((t) => String(t.needed)).join(' and ');
  }
}
