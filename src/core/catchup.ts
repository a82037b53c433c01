import type { RegisterPage } from './recovery.js';
import type { Addr, MemberId, RegisterItem } from './types.js';

/**
 * Catch-up from one peer, as a pure state machine (docs/catch-up.md): what to ask next, what a
 * page asks to compare and store, and which position that makes safe to keep. The runner
 * (daemon/catchup-runner.ts) asks, compares with the local store, fetches the values that are
 * newer there, and stores them with the position in one transaction.
 */

/** One page of a member's change feed (GET /peer/changes), a RegisterPage with the feed's facts. */
export interface ChangeFeedPage extends RegisterPage {
  /** The id of the member's change sequence (absent while it is not initialised). */
  readonly log?: string;
  /** The largest change the member stamped. */
  readonly head?: number;
  /** How long ago the first change after the asked position was written (null: none). */
  readonly oldestAgeMs?: number | null;
}

/** One page of a member's tags in address order (GET /peer/tags), for the full comparison. */
export interface TagPage {
  readonly items: readonly RegisterItem[];
  /** The address to continue after, or null: the last page. */
  readonly next: Addr | null;
}

/** A position kept for a peer: every row of its log `log` with a change at or below `position` is applied here. */
export interface PeerPosition {
  readonly log: string;
  readonly position: number;
}

export type CatchUpRequest =
  /** The changes after `since` (tags only), naming the log the position belongs to. `limit` 1: learning the head to compare from. */
  | { readonly kind: 'changes'; readonly since: number; readonly log: string | undefined; readonly limit: 'page' | 1 }
  /** The peer's tags after `after` (the full comparison). */
  | { readonly kind: 'tags'; readonly after: Addr | null };

/** What a page asks of the runner: compare these tags with the local store, fetch and store the newer, keep `save` with them. */
export interface CatchUpStep {
  readonly compare: readonly RegisterItem[];
  readonly save: PeerPosition | undefined;
  /** More to ask at once (paced); false: caught up, ask again after the idle interval. */
  readonly more: boolean;
  /**
   * A page of the full comparison: where the next one starts. The comparison moves there only
   * once the page is stored (applied()): a page whose values could not be fetched or stored is
   * asked again (simulation seed 873 lost an address when the cursor moved first).
   */
  readonly tagsNext?: Addr | null;
}

/** How far this node is behind the peer, as last seen (status and metrics). */
export interface PeerLag {
  readonly peer: MemberId;
  /** 'incremental': following the peer's changes; 'comparing': a full comparison runs (position unknown, or asked for). */
  readonly mode: 'incremental' | 'comparing';
  /** The peer's changes not yet compared here (its head minus our position); null before the peer first answered. */
  readonly changes: number | null;
  /** Age of the oldest of them, in seconds (0 when there are none). */
  readonly seconds: number | null;
  /** Registers found older here and fixed from this peer, since this process started. */
  readonly fixed: number;
  /** Registers compared by full comparisons, since this process started. */
  readonly compared: number;
  /** How long ago the peer last answered a catch-up request (null: never). */
  readonly lastAnswerAgeMs: number | null;
}

/** A broken variant for the simulator's mutation tests. */
export interface CatchUpMutations {
  /** Keep the position of pulled changes without storing them (the convergence check must catch it). */
  readonly catchupSkipsApply?: boolean;
}

interface Comparison {
  /** Learned from the first answer: the peer's log and head when the comparison started. */
  log?: string;
  head?: number;
  after: Addr | null;
  /** Told when the comparison has gone through every address. */
  readonly done?: (compared: number, fixed: number) => void;
  compared: number;
  fixed: number;
}

export class PeerCatchUp {
  private kept: PeerPosition | undefined;
  private comparison: Comparison | undefined;
  private head: number | null = null;
  private oldestAgeMs: number | null = null;
  private answeredMs: number | null = null;
  private fixedTotal = 0;
  private comparedTotal = 0;

  constructor(readonly peer: MemberId, saved: PeerPosition | undefined) {
    this.kept = saved;
    if (!saved) this.comparison = { after: null, compared: 0, fixed: 0 };
  }

  /** The position kept (what a restart resumes from). */
  get position(): PeerPosition | undefined {
    return this.kept;
  }

  get comparing(): boolean {
    return this.comparison !== undefined;
  }

  /**
   * Starts a full comparison now (`shmem repair`); `done` is told its figures at its end. One
   * already running is restarted from the first address (its figures so far are kept).
   */
  compareNow(done?: (compared: number, fixed: number) => void): void {
    const previous = this.comparison?.done;
    this.comparison = {
      after: null, compared: this.comparison?.compared ?? 0, fixed: this.comparison?.fixed ?? 0,
      done: (c, f) => {
        previous?.(c, f);
        done?.(c, f);
      },
    };
  }

  next(): CatchUpRequest {
    const c = this.comparison;
    if (c === undefined) return { kind: 'changes', since: this.kept!.position, log: this.kept!.log, limit: 'page' };
    if (c.head === undefined) {
      // The head first: what the comparison will cover. Asked from our old position, so the
      // answer's age is that of the oldest change we may be missing.
      return { kind: 'changes', since: this.kept?.position ?? 0, log: this.kept?.log, limit: 1 };
    }
    return { kind: 'tags', after: c.after };
  }

  /** An answer of the change feed to next()'s 'changes' request. */
  onChanges(page: ChangeFeedPage, nowMs: number): CatchUpStep {
    if (!page.initialized || page.log === undefined || page.head === undefined) return { compare: [], save: undefined, more: false };
    this.noteAnswer(page, nowMs);
    const c = this.comparison;
    if (c !== undefined && c.head === undefined) {
      c.log = page.log;
      c.head = page.head;
      return { compare: [], save: undefined, more: true };
    }
    if (c !== undefined) return { compare: [], save: undefined, more: true }; // a late answer; the comparison goes on
    if (page.log !== this.kept!.log) {
      // The peer's sequence is another one (it was wiped, lost its WAL or was restored): our
      // position means nothing there, so compare everything.
      this.comparison = { after: null, compared: 0, fixed: 0 };
      return { compare: [], save: undefined, more: true };
    }
    const position = page.next ?? page.head;
    return { compare: page.items, save: position > this.kept!.position ? { log: page.log, position } : undefined, more: page.next !== null };
  }

  /** An answer to next()'s 'tags' request. */
  onTags(page: TagPage, nowMs: number): CatchUpStep {
    const c = this.comparison;
    if (c === undefined || c.head === undefined) return { compare: [], save: undefined, more: true };
    this.answeredMs = nowMs;
    if (page.next !== null) return { compare: page.items, save: undefined, more: true, tagsNext: page.next };
    // Every address compared: every change up to the head seen at the start is covered.
    return { compare: page.items, save: { log: c.log!, position: c.head }, more: true, tagsNext: null };
  }

  /** The runner stored a step: `fixed` registers were newer at the peer; `save` is kept now. */
  applied(step: CatchUpStep, fixed: number): void {
    this.fixedTotal += fixed;
    const c = this.comparison;
    if (c) c.fixed += fixed;
    if (c && step.tagsNext !== undefined) {
      c.compared += step.compare.length;
      this.comparedTotal += step.compare.length;
      if (step.tagsNext !== null) c.after = step.tagsNext;
    }
    if (step.save === undefined) return;
    this.kept = step.save;
    if (c !== undefined && c.log === step.save.log && c.head === step.save.position) {
      this.comparison = undefined;
      c.done?.(c.compared, c.fixed);
    }
  }

  lag(nowMs: number): PeerLag {
    const position = this.kept?.position ?? 0;
    const changes = this.head === null ? null : Math.max(0, this.head - (this.comparison ? 0 : position));
    const sinceAnswer = this.answeredMs === null ? 0 : nowMs - this.answeredMs;
    const seconds = changes === null ? null : changes === 0 ? 0 : ((this.oldestAgeMs ?? 0) + sinceAnswer) / 1000;
    return {
      peer: this.peer, mode: this.comparison ? 'comparing' : 'incremental', changes, seconds,
      fixed: this.fixedTotal, compared: this.comparedTotal, lastAnswerAgeMs: this.answeredMs === null ? null : sinceAnswer,
    };
  }

  private noteAnswer(page: ChangeFeedPage, nowMs: number): void {
    this.head = page.head!;
    this.answeredMs = nowMs;
    // The age of the first change after what we asked from; once the page is applied the
    // position moves, and with no change left the lag is 0 (lag() reads changes first).
    this.oldestAgeMs = page.next === null && page.items.length === 0 ? 0 : page.oldestAgeMs ?? 0;
  }
}
