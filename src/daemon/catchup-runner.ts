import { PeerCatchUp, type CatchUpMutations, type CatchUpStep, type PeerLag } from '../core/catchup.js';
import { limits } from '../core/limits.js';
import { compareTags } from '../core/tag.js';
import { isUnavailable, isValueLost, type MemberId, type RegisterItem } from '../core/types.js';

import type { Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import { realClock, type Clock, type Timer } from '../platform/clock.js';
import type { CatchUpPosition, RegisterStore } from '../storage/register-store.js';
import type { MemberLink } from '../transport/peer-link.js';

/** How catch-up paces itself (docs/catch-up.md). */
export interface CatchUpPace {
  /** When caught up with a peer: ask it again after this long. */
  readonly idleMs: number;
  /**
   * After a page with work in it: this node's next page (from any peer) waits at least
   * `busyFactor` times what the page took while clients use the node (an operation started
   * since the previous page), `quietFactor` times when none did. So catch-up takes at most
   * 1/(1+busyFactor) of a node that serves clients, however many peers it pulls from, and
   * more of one that does not. A puller with more to do waits at least `gapMs`.
   */
  readonly gapMs: number;
  readonly busyFactor: number;
  readonly quietFactor: number;
  /**
   * The longest such wait: a page that took long because it waited on the network (a paused or
   * cut-off peer, a connection reset) says nothing of this node's share, and 9 times a page that
   * hung for 8 s left a replica unconverged for over a minute (simulation seed 121, issue 30).
   */
  readonly pauseMsMax: number;
  /** After a failure: back off up to this long. */
  readonly backoffMsMax: number;
  /**
   * A change-feed page that brought nothing newer moves the position in memory, and it is
   * written to disk at most this often per peer (a page that fetched values writes it with them,
   * a full comparison at its end). Under writes every page of the feed is such a page (the
   * updates reached this replica themselves): one more fsync'd commit per peer per poll, for a
   * position that only saves a restart some re-reading. An older position on disk is still
   * true (everything up to it is here), so a crash costs re-comparing at most this much feed.
   */
  readonly positionSaveMs: number;
}

export const CATCHUP_PACE: CatchUpPace = { idleMs: 250, gapMs: 20, busyFactor: 9, quietFactor: 1, pauseMsMax: 5_000, backoffMsMax: 2_000, positionSaveMs: 5_000 };

/** What one full comparison of a peer found (`shmem repair`). */
export interface PeerRepairReport {
  readonly peer: MemberId;
  readonly compared: number;
  readonly fixed: number;
  readonly error?: string;
}

interface Puller {
  readonly link: MemberLink;
  readonly cursor: PeerCatchUp;
  readonly stop: AbortController;
  wake: (() => void) | undefined;
  failures: number;
  lastError: string | undefined;
  /** When this peer's position was last written to disk (clock ms). */
  savedAtMs: number;
  /** The position in memory is ahead of the one on disk (a deferred save). */
  unsaved: boolean;
}

/**
 * Pulls from every other member what changed there and is older here (docs/catch-up.md): one
 * loop per peer, one request at a time, paced so it takes a bounded share of the node. It does
 * nothing while `paused()` (a recovering replica: its recovery does the copy).
 */
export class CatchUpRunner {
  private readonly pullers = new Map<MemberId, Puller>();
  private started = false;
  private stopped = false;
  private readonly failLog = new LogLimiter(60_000);
  /**
   * One page at a time on this node, across all peers, and the time before which the next may
   * start: the share of the node is bounded for the node, not per peer (two pullers at 1/5 each
   * halved the foreground in the catch-up bench); and a page that follows another peer's finds
   * what that one stored already, so the same values are not fetched twice.
   */
  private lane: Promise<void> = Promise.resolve();
  private laneFreeAtMs = 0;
  /** Configuration state of requests, and what to do with an answer of another state (as RepairRunner). */
  membership: { rank(): number; answered(err: unknown, from: MemberId): Promise<void> } | undefined;
  /** True while catch-up must not run (the replica recovers). */
  paused: () => boolean = () => false;
  /** Grows with every client operation started on this node (the pace yields to them). */
  foreground: () => number = () => 0;
  private foregroundSeen = 0;

  constructor(
    private readonly store: RegisterStore,
    private links: readonly MemberLink[],
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
    private readonly pace: CatchUpPace = CATCHUP_PACE,
    private readonly mutations: CatchUpMutations = {},
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const l of this.links) this.startPuller(l);
  }

  /** Stops every puller; positions whose save was deferred are written now (a clean stop resumes exactly where it was). */
  stop(): void {
    this.stopped = true;
    for (const p of this.pullers.values()) {
      this.stopPuller(p);
      const kept = p.cursor.position;
      if (p.unsaved && kept) this.store.putIfNewer([], { peer: p.link.member, ...kept }).catch(() => undefined); // a failed write leaves the older, still true, position
    }
    this.pullers.clear();
  }

  /** The member set changed: pull from these peers from now on. */
  setPeers(links: readonly MemberLink[]): void {
    this.links = links;
    if (!this.started || this.stopped) return;
    const keep = new Set(links.map((l) => l.member));
    for (const [member, p] of [...this.pullers]) {
      if (keep.has(member) && p.link === links.find((l) => l.member === member)) continue;
      this.stopPuller(p);
      this.pullers.delete(member);
    }
    for (const l of links) if (!this.pullers.has(l.member)) this.startPuller(l);
  }

  /** How far this node is behind each peer. */
  lag(): PeerLag[] {
    const now = this.clock.now();
    return [...this.pullers.values()].map((p) => p.cursor.lag(now));
  }

  /** Why pulling from `peer` fails now, if it does. */
  lastError(peer: MemberId): string | undefined {
    return this.pullers.get(peer)?.lastError;
  }

  /**
   * A full comparison against every peer now (`shmem repair`), one peer after the other (so
   * what the first fixes is not fetched again from the next, and the load stays one peer's):
   * resolves with each one's figures; a peer that does not finish within `deadlineMs` is
   * reported with an error (its comparison goes on in the background).
   */
  async repairNow(deadlineMs: number): Promise<PeerRepairReport[]> {
    const reports: PeerRepairReport[] = [];
    for (const p of [...this.pullers.values()]) {
      reports.push(await new Promise<PeerRepairReport>((resolve) => {
        let timer: Timer | undefined;
        const before = p.cursor.lag(this.clock.now());
        const report = (error?: string): void => {
          this.clock.clearTimeout(timer);
          const after = p.cursor.lag(this.clock.now());
          resolve({ peer: p.link.member, compared: after.compared - before.compared, fixed: after.fixed - before.fixed, ...(error ? { error } : {}) });
        };
        timer = this.clock.setTimeout(() => report(`did not finish within ${Math.round(deadlineMs / 1000)} s${p.lastError ? `: ${p.lastError}` : ''}`), deadlineMs);
        p.cursor.compareNow(() => report());
        p.wake?.();
      }));
    }
    return reports;
  }

  private startPuller(link: MemberLink): void {
    const saved = this.store.positions().find((s) => s.peer === link.member);
    const p: Puller = {
      link, cursor: new PeerCatchUp(link.member, saved ? { log: saved.log, position: saved.position } : undefined),
      stop: new AbortController(), wake: undefined, failures: 0, lastError: undefined, savedAtMs: Number.NEGATIVE_INFINITY, unsaved: false,
    };
    this.pullers.set(link.member, p);
    void this.loop(p);
  }

  private stopPuller(p: Puller): void {
    p.stop.abort();
    p.wake?.();
  }

  private async loop(p: Puller): Promise<void> {
    const signal = p.stop.signal;
    while (!signal.aborted) {
      if (this.paused()) {
        await this.sleep(p, this.pace.idleMs);
        continue;
      }
      let waitMs: number;
      const release = await this.enterLane(p);
      if (release === undefined) return;
      const started = this.clock.now();
      try {
        const step = await this.ask(p);
        if (signal.aborted) return;
        const fixed = await this.apply(p, step);
        p.cursor.applied(step, fixed);
        p.failures = 0;
        p.lastError = undefined;
        if (step.more || step.compare.length > 0) {
          const ops = this.foreground();
          const factor = ops !== this.foregroundSeen ? this.pace.busyFactor : this.pace.quietFactor;
          this.foregroundSeen = ops;
          this.laneFreeAtMs = this.clock.now() + Math.min((this.clock.now() - started) * factor, this.pace.pauseMsMax);
        }
        waitMs = step.more ? this.pace.gapMs : this.pace.idleMs;
      } catch (err) {
        if (signal.aborted) return;
        await this.membership?.answered(err, p.link.member);
        p.failures += 1;
        p.lastError = String((err as Error).message ?? err).slice(0, 300);
        if (this.failLog.shouldLog(p.link.member)) this.logger.info('catch-up from a member fails; retrying', { peer: p.link.member, err: p.lastError });
        waitMs = Math.min(this.pace.backoffMsMax, this.pace.idleMs * 2 ** Math.min(p.failures, 5));
      } finally {
        release();
      }
      await this.sleep(p, waitMs);
    }
  }

  /** Waits for this node's catch-up lane and its pause; resolves with its release, or undefined once the puller stopped. */
  private async enterLane(p: Puller): Promise<(() => void) | undefined> {
    let release!: () => void;
    const previous = this.lane;
    this.lane = new Promise<void>((r) => { release = r; });
    await previous;
    for (;;) {
      if (p.stop.signal.aborted) {
        release();
        return undefined;
      }
      const waitMs = this.laneFreeAtMs - this.clock.now();
      if (waitMs <= 0) return release;
      await this.sleep(p, waitMs);
    }
  }

  /** Asks the peer what the cursor needs next; the answer becomes a step. */
  private async ask(p: Puller): Promise<CatchUpStep> {
    const req = p.cursor.next();
    const rank = this.membership?.rank();
    if (req.kind === 'changes') {
      const limit = req.limit === 1 ? 1 : limits.catchupPageItems;
      const page = await p.link.changes(req.since, limit, false, p.stop.signal, rank, req.log);
      return p.cursor.onChanges(page, this.clock.now());
    }
    const page = await p.link.tags(req.after, p.stop.signal, rank);
    return p.cursor.onTags(page, this.clock.now());
  }

  /**
   * Compares the step's tags with ours, fetches from the peer the values of those newer there
   * (the replica query: the same path and checks as a read's), and stores them, with the
   * step's position, in one transaction. Returns how many were newer.
   */
  private async apply(p: Puller, step: CatchUpStep): Promise<number> {
    const position: CatchUpPosition | undefined = step.save ? { peer: p.link.member, ...step.save } : undefined;
    const mine = step.compare.length === 0 ? [] : this.store.query(step.compare.map((i) => i.addr), { values: false, budgetBytes: 0, oversize: false });
    // Newer there, or ours unknown (a damaged register); a damaged value of ours is healed by the same tag there.
    const newer = step.compare.filter((item, i) => {
      const m = mine[i]!;
      if (isValueLost(m)) return compareTags(item.tag, m.tag) >= 0;
      return !('value' in m) || compareTags(item.tag, m.tag) > 0;
    });
    const items: RegisterItem[] = [];
    const rank = this.membership?.rank();
    for (let i = 0; i < newer.length; i += limits.batchItemsMax) {
      const addrs = newer.slice(i, i + limits.batchItemsMax).map((n) => n.addr);
      const answers = await p.link.query(addrs, true, p.stop.signal, rank);
      answers.forEach((a, k) => {
        if (!isUnavailable(a) && !isValueLost(a)) items.push({ addr: addrs[k]!, tag: a.tag, value: a.value });
      });
    }
    if (p.stop.signal.aborted) return 0;
    if (this.mutations.catchupSkipsApply) {
      if (position) await this.store.putIfNewer([], position);
      return items.length;
    }
    // Nothing fetched from the feed, saved not long ago: the position stays in memory (CatchUpPace.positionSaveMs).
    const deferSave = items.length === 0 && step.tagsNext === undefined && this.clock.now() - p.savedAtMs < this.pace.positionSaveMs;
    if (items.length > 0 || (position && !deferSave)) {
      await this.store.putIfNewer(items, position);
      if (position) {
        p.savedAtMs = this.clock.now();
        p.unsaved = false;
      }
    } else if (position) {
      p.unsaved = true;
    }
    if (items.length > 0) this.logger.debug('caught up registers from a member', { peer: p.link.member, registers: items.length });
    return items.length;
  }

  private sleep(p: Puller, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        p.wake = undefined;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      p.wake = done;
    });
  }
}
