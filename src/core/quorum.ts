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
