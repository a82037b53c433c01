import { limits } from '../core/limits.js';
import type { Recovery, RecoveryEffect } from '../core/recovery.js';
import type { MemberId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import type { RegisterStore } from '../storage/register-store.js';
import { realClock, sleep, type Clock } from '../platform/clock.js';
import type { MemberLink } from '../transport/peer-link.js';

/** What a finished recovery copied: from whom, how many registers, and whether any source had data. */
export interface RecoveryOutcome {
  readonly sources: readonly MemberId[];
  readonly registersCopied: number;
  /** False when every source was itself empty: a new cluster, nothing was lost. */
  readonly anySourceHadData: boolean;
}

/**
 * Carries out a Recovery's effects: pages through each other member's registers over HTTP
 * (retrying with backoff while a member is down or refuses), stores every page durably
 * before asking for the next, and resolves once enough were copied.
 */
export function runRecovery(
  recovery: Recovery,
  links: readonly MemberLink[],
  store: RegisterStore,
  logger: Logger,
  signal: AbortSignal,
  clock: Clock = realClock,
): Promise<RecoveryOutcome> {
  const byMember = new Map(links.map((l) => [l.member, l]));
  let registersCopied = 0;
  let anySourceHadData = false;
  return new Promise((resolve, reject) => {
    const handle = async (effects: readonly RecoveryEffect[]): Promise<void> => {
      for (const e of effects) {
        if (signal.aborted) return;
        if (e.type === 'store') {
          await store.putIfNewer(e.items);
          registersCopied += e.items.length;
          anySourceHadData = true;
        } else if (e.type === 'fetch') void fetchLoop(e.from, e.after);
        else resolve({ sources: e.sources, registersCopied, anySourceHadData });
      }
    };
    const fetchLoop = async (from: MemberId, after: number | null): Promise<void> => {
      const link = byMember.get(from)!;
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          const page = await link.registers(after, signal);
          logger.debug('recovery page', { peer: from, items: page.items.length, initialized: page.initialized });
          await handle(recovery.onPage(from, page));
          return;
        } catch (err) {
          if (signal.aborted) return;
          if (attempt === 0 || attempt % 20 === 0) logger.info('recovery source not answering yet', { peer: from, err: (err as Error).message });
          const delayMs = Math.min(limits.retryBackoffMsMax * 4, limits.retryBackoffMsMin * 2 ** Math.min(attempt, 10));
          await sleep(clock, delayMs, signal);
        }
      }
    };
    handle(recovery.start()).catch(reject);
  });
}

