import { recoverySourcesNeeded } from '../core/recovery.js';
import { INITIAL, maxVersioned } from '../core/tag.js';
import { isUnavailable, type Addr, type RegisterItem, type Versioned } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import type { RegisterStore } from '../storage/register-store.js';
import { realClock, type Clock, type Timer } from '../platform/clock.js';
import type { PeerLink } from '../transport/peer-link.js';

/** How often the runner looks for damaged registers, and retries those it could not repair. */
const REPAIR_INTERVAL_MS = 1_000;
/** Damaged addresses repaired per round. */
const REPAIR_BATCH = 256;

/**
 * Repairs registers that failed their checksum (docs/storage-integrity.md): asks every other
 * member for the damaged addresses, and once N-Q+1 of them answered an address (the rule and
 * argument of wiped-dir recovery, per address: an acknowledged write is on at least Q-1 of the
 * others, so any N-Q+1 of them include one), stores the largest pair and lifts the mark. Until
 * then the replica answers those addresses `unavailable`.
 */
export class RepairRunner {
  private timer: Timer | undefined;
  private running = false;
  private readonly stopped = new AbortController();
  private readonly waitingLog = new LogLimiter(60_000);
  private readonly needed: number;
  repaired = 0;

  constructor(
    private readonly store: RegisterStore,
    private readonly peers: readonly PeerLink[],
    members: number,
    quorum: number,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
  ) {
    this.needed = recoverySourcesNeeded(members, quorum);
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
    const addrs = this.store.damagedAddrs(REPAIR_BATCH);
    if (addrs.length === 0) return;
    this.running = true;
    try {
      const best = new Map<Addr, { pair: Versioned; sources: number }>(addrs.map((a) => [a, { pair: INITIAL, sources: 0 }]));
      const answers = await Promise.allSettled(this.peers.map((p) => p.query(addrs, true, this.stopped.signal)));
      for (const answer of answers) {
        if (answer.status !== 'fulfilled') continue;
        answer.value.forEach((a, i) => {
          if (isUnavailable(a)) return;
          const entry = best.get(addrs[i]!)!;
          entry.pair = maxVersioned(entry.pair, a);
          entry.sources += 1;
        });
      }
      if (this.stopped.signal.aborted) return;
      const done = addrs.filter((a) => best.get(a)!.sources >= this.needed);
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
        return pair.tag.seq === 0 ? [] : [{ addr, tag: pair.tag, value: pair.value }];
      });
      await this.store.putIfNewer(items);
      this.store.clearDamaged(done);
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

