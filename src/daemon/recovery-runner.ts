import { limits } from '../core/limits.js';
import type { Pass, Recovery, RecoveryEffect } from '../core/recovery.js';
import type { MemberId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import type { CatchUpPosition, RegisterStore } from '../storage/register-store.js';
import { REGISTER_PAGE_ITEMS } from '../transport/wire.js';
import { realClock, sleep, type Clock, type Timer } from '../platform/clock.js';
import type { MemberLink } from '../transport/peer-link.js';
import type { AcceptorState } from '../membership/paxos.js';
import { mergeAcceptorRows } from '../core/rmw.js';

/** What a finished recovery copied: from whom, how many registers, and whether it waited out the fence. */
export interface RecoveryOutcome {
  readonly sources: readonly MemberId[];
  readonly registersCopied: number;
  /** False when a probe showed nothing could be lost (a new cluster): nothing was copied. */
  readonly fenced: boolean;
  /** Nothing was seen anywhere and nobody has seen the cluster serve: a new cluster. */
  readonly newCluster: boolean;
  /** An operator accepted the loss of the recovering members' data (docs/recovery.md); `gaveUp`: the members not copied. */
  readonly lossAccepted: boolean;
  readonly gaveUp: readonly MemberId[];
  /** The Paxos acceptor states the sources reported on their last page (when they have one). */
  readonly acceptors: readonly AcceptorState[];
  /** How far each source's change feed was copied: kept as catch-up positions (docs/catch-up.md). */
  readonly positions: readonly CatchUpPosition[];
  /** rmw acceptor rows copied and merged (docs/rmw.md). */
  readonly acceptorRows: number;
}

/** Added to the longest operation deadline before the copy starts: clocks of members may run at slightly different rates. */
export const FENCE_MARGIN_MS = 1_000;
/** The meta key that keeps "this cluster has served" across restarts of a recovering member (docs/recovery.md). */
export const SERVED_META_KEY = 'cluster_served';
/** After an accepted loss, a member that has not answered within this many attempts is given up. */
const ACCEPT_ATTEMPTS = 3;

/**
 * Carries out a Recovery's effects: probes and then pages through each other member's change
 * feed from position 0, with values (catch-up from 0, docs/catch-up.md), retrying with backoff
 * while a member is down or refuses, and asking again later one that is recovering itself;
 * stores every page durably before asking for the next, arms the fence timer from the moment
 * this process started (`startedMs`, on `clock`), and resolves `done` once enough were copied,
 * with how far each source was copied. A source whose change log changes between pages (it
 * lost its WAL and restarted) is copied again from 0. `acceptLoss()` hands an operator's
 * acceptance to the recovery (refused, with a reason, unless it is beyond the budget).
 */
export class RecoveryRun {
  readonly done: Promise<RecoveryOutcome>;
  private handle: (effects: readonly RecoveryEffect[]) => Promise<void> = async () => {};

  constructor(
    private readonly recovery: Recovery,
    links: readonly MemberLink[],
    store: RegisterStore,
    logger: Logger,
    signal: AbortSignal,
    startedMs: number,
    clock: Clock = realClock,
    /** Pages are asked under this configuration state; an answer of another state is handed to `answered`. */
    membership?: { rank(): number; answered(err: unknown, from: MemberId): Promise<void> },
  ) {
    const byMember = new Map(links.map((l) => [l.member, l]));
    let registersCopied = 0;
    let sawData = false;
    const acceptors = new Map<MemberId, AcceptorState>();
    /** Sources whose last page came from a member that was not recovering itself. */
    const initialized = new Set<MemberId>();
    /** Per source: the log being copied, and the position reached once its feed was read to the end. */
    const logs = new Map<MemberId, string>();
    const reached = new Map<MemberId, CatchUpPosition>();
    /** Per source: how many times in a row it was found recovering (the pause before asking again grows). */
    const recoveringStreak = new Map<MemberId, number>();
    let fence: Timer | undefined;
    signal.addEventListener('abort', () => clock.clearTimeout(fence), { once: true });
    this.done = new Promise((resolve, reject) => {
      const handle = async (effects: readonly RecoveryEffect[]): Promise<void> => {
        for (const e of effects) {
          if (signal.aborted) return;
          if (e.type === 'store') {
            await store.putIfNewer(e.items);
            registersCopied += e.items.length;
          } else if (e.type === 'fetch') void fetchLoop(e.from, e.after, e.pass, e.later === true);
          else if (e.type === 'served') store.setMeta(SERVED_META_KEY, '1');
          else if (e.type === 'fence') {
            clock.clearTimeout(fence);
            const waitMs = Math.max(0, startedMs + e.deadlineMs + FENCE_MARGIN_MS - clock.now());
            logger.debug('recovery fence armed', { deadlineMs: e.deadlineMs, waitMs });
            fence = clock.setTimeout(() => {
              logger.info(`copying the other members' registers now: waited ${Math.round((clock.now() - startedMs) / 1000)} s since start, so that no write still in flight can count an acknowledgement this data dir lost`, {
                deadlineMs: e.deadlineMs,
              });
              handle(recovery.onFence()).catch(reject);
            }, waitMs);
          } else {
            clock.clearTimeout(fence);
            if (e.fenced) acceptorRows = await copyAcceptorRows(e.sources);
            if (signal.aborted) return;
            const copied = e.sources.flatMap((s) => acceptors.get(s) ?? []);
            const positions = e.fenced ? e.sources.flatMap((s) => reached.get(s) ?? []) : [];
            resolve({
              sources: e.sources, registersCopied, fenced: e.fenced, newCluster: !sawData && !recovery.served,
              lossAccepted: e.lossAccepted === true, gaveUp: e.gaveUp ?? [], acceptors: copied, positions, acceptorRows,
            });
          }
        }
      };
      /**
       * The sources' rmw acceptor rows, merged into ours address by address (docs/rmw.md, "Acceptor
       * state"): after the fence, every promise or acceptance the lost disk gave that a proposer
       * counted is also on one of them, and taking on another acceptor's real one only makes this
       * member refuse more.
       */
      let acceptorRows = 0;
      const copyAcceptorRows = async (sources: readonly MemberId[]): Promise<number> => {
        let rows = 0;
        // A source that counted as recovering itself (an empty one: docs/recovery.md) has none to give.
        for (const from of sources.filter((s) => initialized.has(s))) {
          const link = byMember.get(from)!;
          let after: number | null = null;
          for (let attempt = 0; !signal.aborted;) {
            try {
              const page = await link.acceptors(after, signal, membership?.rank());
              const own = store.acceptors(page.items.map((i) => i.addr));
              const merged = page.items.map((i, k) => ({ addr: i.addr, row: mergeAcceptorRows(own[k] ? [own[k], i.row] : [i.row], limits.rmwCommitHistory) }));
              if (merged.length > 0) await store.putAcceptors(merged);
              rows += merged.length;
              attempt = 0;
              if (page.next === null) break;
              after = page.next;
            } catch (err) {
              if (signal.aborted) break;
              await membership?.answered(err, from);
              if (attempt === 0 || attempt % 20 === 0) logger.info('recovery source not answering its acceptor rows yet', { peer: from, err: (err as Error).message });
              await sleep(clock, Math.min(limits.retryBackoffMsMax * 4, limits.retryBackoffMsMin * 2 ** Math.min(attempt++, 10)), signal);
            }
          }
        }
        if (rows > 0) logger.info('copied the rmw acceptor rows of the sources', { rows, sources });
        return rows;
      };
      this.handle = (effects) => handle(effects).catch(reject);
      const fetchLoop = async (from: MemberId, after: number | null, pass: Pass, later: boolean): Promise<void> => {
        const link = byMember.get(from)!;
        if (later) {
          // It is recovering itself: ask again after a pause that grows while it stays so.
          const streak = (recoveringStreak.get(from) ?? 0) + 1;
          recoveringStreak.set(from, streak);
          await sleep(clock, Math.min(limits.retryBackoffMsMax * 4, limits.retryBackoffMsMin * 2 ** Math.min(streak, 10)), signal);
        }
        for (let attempt = 0; !signal.aborted && recovery.phase === pass && !recovery.done; attempt++) {
          try {
            const page = await link.changes(after ?? 0, REGISTER_PAGE_ITEMS, true, signal, membership?.rank());
            logger.debug('recovery page', { peer: from, pass, items: page.items.length, initialized: page.initialized });
            if (page.initialized) recoveringStreak.delete(from);
            if (page.initialized && pass !== 'probe' && page.log !== undefined) {
              const log = logs.get(from);
              if (after === null) logs.set(from, page.log);
              else if (log !== page.log) {
                // Its sequence is another one now: positions of the old one mean nothing there.
                logger.info('a recovery source changed its change log (it restarted without its WAL): copying it again from the start', { peer: from });
                after = null;
                attempt = -1;
                continue;
              }
              if (page.next === null && page.head !== undefined) reached.set(from, { peer: from, log: page.log, position: page.head });
            }
            if (page.initialized && (page.items.length > 0 || page.next !== null)) sawData = true;
            if (page.acceptor !== undefined) acceptors.set(from, page.acceptor);
            if (page.initialized) initialized.add(from);
            else initialized.delete(from);
            await handle(recovery.onPage(from, page, pass));
            return;
          } catch (err) {
            if (signal.aborted) return;
            await membership?.answered(err, from);
            if (signal.aborted) return;
            if (pass === 'accept' && attempt + 1 >= ACCEPT_ATTEMPTS) {
              logger.warn('with the loss accepted, a member that does not answer is not copied', { peer: from, err: (err as Error).message });
              await handle(recovery.onUnreachable(from, pass));
              return;
            }
            if (attempt === 0 || attempt % 20 === 0) logger.info('recovery source not answering yet', { peer: from, err: (err as Error).message });
            const delayMs = Math.min(limits.retryBackoffMsMax * 4, limits.retryBackoffMsMin * 2 ** Math.min(attempt, 10));
            await sleep(clock, delayMs, signal);
          }
        }
      };
      handle(recovery.start()).catch(reject);
    });
  }

  /** An operator accepts the loss (docs/recovery.md); a reason when the recovery refuses it. */
  acceptLoss(): string | undefined {
    const effects = this.recovery.acceptLoss();
    if (typeof effects === 'string') return effects;
    void this.handle(effects);
    return undefined;
  }
}
