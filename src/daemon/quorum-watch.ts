import type { Logger } from '../log/logger.js';
import { describeMs } from './failure-detector.js';
import type { ClusterVerdict } from './status.js';

/**
 * Logs when this node loses its quorum and when it has it again, once each, at warn, with
 * how long the previous state lasted and which members were missing. Fed the verdict on
 * every heartbeat tick. At start, peers are not heard from yet: a node that still has no
 * quorum after `graceMs` says so once.
 */
export class QuorumWatch {
  private had: boolean | undefined;
  private sinceMs: number;

  constructor(private readonly logger: Logger, private readonly graceMs: number, private readonly now: () => number = Date.now) {
    this.sinceMs = now();
  }

  observe(v: ClusterVerdict): void {
    const t = this.now();
    if (this.had === v.hasQuorum) return;
    if (this.had === undefined && !v.hasQuorum && t - this.sinceMs < this.graceMs) return;
    const missing = v.unavailable.map((u) => `${u.member} ${u.condition}`);
    if (this.had === undefined) {
      if (!v.hasQuorum) this.logger.warn('no quorum yet: reads and writes through this node fail until one forms', { serving: v.serving, quorum: v.quorum, missing });
    } else if (v.hasQuorum) {
      this.logger.warn(`quorum regained after ${describeMs(t - this.sinceMs)} without`, { serving: v.serving, quorum: v.quorum, lostForMs: Math.round(t - this.sinceMs) });
    } else {
      this.logger.warn('quorum lost: reads and writes through this node fail', { serving: v.serving, quorum: v.quorum, missing, hadForMs: Math.round(t - this.sinceMs) });
    }
    this.had = v.hasQuorum;
    this.sinceMs = t;
  }
}
