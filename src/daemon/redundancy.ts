import type { PeerLag } from '../core/catchup.js';
import type { MemberId } from '../core/types.js';
import { plural } from '../format.js';
import type { PullerLag } from './pullers.js';

/**
 * Changes not compared for less than this are catch-up at work (a write reaches every member
 * within moments; catch-up compares within a fraction of a second), not lost redundancy.
 */
export const LAG_SECONDS_NOTED = 5;

/** What `/status` says of the redundancy of acknowledged writes, as this node sees it. */
export interface Redundancy {
  /** full: every lag this node sees is compared to within LAG_SECONDS_NOTED; reduced: some writes may be on fewer than all members. */
  readonly code: 'full' | 'reduced';
  readonly text: string;
}

/** One line per direction that lags: who has not compared what of whom, and for how long. */
export function redundancy(self: MemberId, behind: readonly PeerLag[], pullers: readonly PullerLag[]): Redundancy {
  const lines: string[] = [];
  for (const p of pullers) {
    if (p.changes > 0 && p.seconds >= LAG_SECONDS_NOTED) {
      const asked = p.lastAskedAgeMs === null ? ', and has not asked since this node started' : p.lastAskedAgeMs > 10_000 ? `, and last asked ${age(p.lastAskedAgeMs / 1000)} ago` : '';
      lines.push(`${p.peer} has not compared ${plural(p.changes, 'change')} of ${self} (oldest ${age(p.seconds)})${asked}`);
    }
  }
  for (const b of behind) {
    if (b.changes !== null && b.changes > 0 && b.seconds !== null && b.seconds >= LAG_SECONDS_NOTED) {
      lines.push(`${self} has not compared ${plural(b.changes, 'change')} of ${b.peer} (oldest ${age(b.seconds)}${b.mode === 'comparing' ? ', comparing everything' : ''})`);
    }
  }
  if (lines.length === 0) return { code: 'full', text: 'all acknowledged writes are on every member as far as this node sees (catch-up is current)' };
  return { code: 'reduced', text: `some acknowledged writes may be on fewer than all members: ${lines.join('; ')}` };
}

/** "42 s", "3 min", "2 h". */
export function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
