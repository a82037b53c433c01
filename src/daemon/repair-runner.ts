import { recoverySourcesNeeded } from '../core/recovery.js';
import { INITIAL, maxVersioned, tagsEqual, ZERO_TAG } from '../core/tag.js';
import { isUnavailable, isValueLost, type Addr, type MemberId, type RegisterItem, type Versioned } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import type { RegisterStore } from '../storage/register-store.js';
import { realClock, type Clock, type Timer } from '../platform/clock.js';
import type { PeerLink } from '../transport/peer-link.js';
import { FENCE_MARGIN_MS } from './recovery-runner.js';

/** How often the runner looks for damaged registers, and retries those it could not repair. */
const REPAIR_INTERVAL_MS = 1_000;
/** Damaged addresses repaired per round. */
const REPAIR_BATCH = 256;

/**
 * How many members must answer an address before it is repaired: per member set, `needed`
 * of its `members` (the others; in a transition, both sets, docs/membership.md).
 */
export type RepairSources = readonly { readonly members: readonly MemberId[]; readonly needed: number }[];

/** A broken variant for the simulator's mutation tests. */
export interface RepairMutations {
  /** Repair a damaged register as soon as it is seen, without waiting out the fence. */
  readonly repairWithoutFence?: boolean;
}

/**
 * Repairs registers that failed their checksum (docs/storage-integrity.md): asks every other
 * member for the damaged addresses, and once N-Q+1 of them answered an address (the rule and
 * argument of wiped-dir recovery, per address: an acknowledged write is on at least Q-1 of the
 * others, so any N-Q+1 of them include one), stores the largest pair and lifts the mark. Until
 * then the replica answers those addresses `unavailable`.
 *
 * An address is repaired only once one operation deadline (plus a margin) has passed since
 * this process first saw it damaged: the lost register may have acknowledged a write that is
 * still in flight, and only past its deadline has that write either completed, and so reached
 * the members the repair reads, or failed for good (core/recovery.ts argues the same fence).
 */
export class RepairRunner {
  private timer: Timer | undefined;
  private running = false;
  private readonly stopped = new AbortController();
  private readonly waitingLog = new LogLimiter(60_000);
  private sources: RepairSources;
  /**
   * With member changes: queries name the node's configuration state, and an answer of
   * another state is handed back (a member out of date learns the newer state here too).
   */
  membership: { rank(): number; answered(err: unknown, from: MemberId): Promise<void> } | undefined;
  /** When this process first saw each damaged address (monotonic ms). */
  private readonly firstSeen = new Map<Addr, number>();
  repaired = 0;

  constructor(
    private readonly store: RegisterStore,
    private peers: readonly PeerLink[],
    members: number,
    quorum: number,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
    private readonly opDeadlineMs: number = 0,
    private readonly mutations: RepairMutations = {},
  ) {
    this.sources = [{ members: peers.map((p) => p.member), needed: recoverySourcesNeeded(members, quorum) }];
  }

  /** The member set changed: repair reads these peers, and needs `sources` of them, from now on. */
  setPeers(peers: readonly PeerLink[], sources: RepairSources): void {
    this.peers = peers;
    this.sources = sources;
  }

  /** The fewest answers an address needs (for the logs). */
  private get needed(): number {
    return this.sources.reduce((n, s) => n + s.needed, 0);
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped.signal.aborted) return;
      void this.round().finally(() => {
        if (!this.stopped.signal.aborted) this.timer = this.clock.setTimeout(tick, REPAIR_INTERVAL_MS);
      });
    };
    this.timer = this.clock.setTimeout(tick, REPAIR_INTERVAL_MS);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.stopped.abort();
  }

  /** One round: repairs what it can of the first damaged addresses. */
  async round(): Promise<void> {
    if (this.running || this.stopped.signal.aborted) return;
    const now = this.clock.now();
    const damaged = this.store.damagedAddrs(REPAIR_BATCH);
    const current = new Set(damaged);
    for (const a of this.firstSeen.keys()) if (!current.has(a)) this.firstSeen.delete(a);
    for (const a of damaged) if (!this.firstSeen.has(a)) this.firstSeen.set(a, now);
    const fenceMs = this.mutations.repairWithoutFence ? 0 : this.opDeadlineMs + FENCE_MARGIN_MS;
    const addrs = damaged.filter((a) => now - this.firstSeen.get(a)! >= fenceMs);
    if (addrs.length === 0) return;
    this.running = true;
    try {
      const best = new Map<Addr, { pair: Versioned; from: Set<MemberId> }>(addrs.map((a) => [a, { pair: INITIAL, from: new Set() }]));
      const peers = this.peers;
      const rank = this.membership?.rank();
      const answers = await Promise.allSettled(peers.map((p) => p.query(addrs, true, this.stopped.signal, rank)));
      answers.forEach((answer, p) => {
        if (answer.status !== 'fulfilled') {
          void this.membership?.answered(answer.reason, peers[p]!.member);
          return;
        }
        answer.value.forEach((a, i) => {
          if (isUnavailable(a) || isValueLost(a)) return; // no pair to repair from (its value is damaged there too)
          const entry = best.get(addrs[i]!)!;
          entry.pair = maxVersioned(entry.pair, a);
          entry.from.add(peers[p]!.member);
        });
      });
      if (this.stopped.signal.aborted) return;
      const enough = (from: Set<MemberId>): boolean => this.sources.every((s) => s.members.filter((m) => from.has(m)).length >= s.needed);
      const done = addrs.filter((a) => enough(best.get(a)!.from));
      if (done.length === 0) {
        if (this.waitingLog.shouldLog('waiting')) {
          this.logger.warn('damaged registers wait for repair: too few other members answered', {
            damaged: this.store.stats().damaged, sourcesNeeded: this.needed, first: addrs[0],
          });
        }
        return;
      }
      const items: RegisterItem[] = done.flatMap((addr) => {
        const { pair } = best.get(addr)!;
        return tagsEqual(pair.tag, ZERO_TAG) ? [] : [{ addr, tag: pair.tag, value: pair.value }];
      });
      await this.store.putIfNewer(items);
      this.store.clearDamaged(done);
      for (const a of done) this.firstSeen.delete(a);
      this.repaired += done.length;
      if (this.needed === 0) {
        this.logger.error('damaged registers had no other copy (a one-member cluster): their last values are lost', { addrs: done.slice(0, 20) });
      } else {
        this.logger.info('repaired damaged registers from the other members', { repaired: done.length, sources: this.needed, first: done[0] });
      }
    } catch (err) {
      if (this.waitingLog.shouldLog('failed')) this.logger.warn('register repair failed; retrying', { err: String((err as Error).message ?? err) });
    } finally {
      this.running = false;
    }
  }
}

