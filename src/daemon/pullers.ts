import { limits } from '../core/limits.js';
import type { MemberId } from '../core/types.js';
import type { Clock } from '../platform/clock.js';
import type { RegisterStore } from '../storage/register-store.js';

/** How far a peer is behind this node's changes, as its catch-up requests show it (docs/catch-up.md). */
export interface PullerLag {
  readonly peer: MemberId;
  /** Changes of this node the peer has not compared yet (all of them while its position is for another log). */
  readonly changes: number;
  /** Age of the oldest of them, in seconds (0 when none). */
  readonly seconds: number;
  /** How long ago the peer last asked (null: not since this process started). */
  readonly lastAskedAgeMs: number | null;
}

/**
 * The positions the other members' catch-up requests name, per member: what this node can say
 * about writes that may be here and not there. A member that is down stops asking, so its lag
 * grows with every change here.
 */
export class Pullers {
  private readonly asked = new Map<MemberId, { since: number; log: string | undefined; atMs: number }>();

  constructor(private readonly store: RegisterStore, private readonly clock: Clock) {}

  /** A member asked for the changes after `since` of log `log`. */
  noteAsked(peer: MemberId, since: number, log: string | undefined): void {
    // Only members' requests reach here (the peer guard); the bound is against a bug, not a flood.
    if (!this.asked.has(peer) && this.asked.size >= limits.membersMax * 2) return;
    this.asked.set(peer, { since, log, atMs: this.clock.now() });
  }

  /** The lag of each of `peers` on this node's changes. */
  lag(peers: readonly MemberId[]): PullerLag[] {
    const { log, head } = this.store.changeLog();
    const now = this.clock.now();
    return peers.map((peer) => {
      const a = this.asked.get(peer);
      const since = a !== undefined && a.log === log ? Math.min(a.since, head) : 0;
      const changes = head - since;
      const oldest = changes === 0 ? null : this.store.changes(since, 1, null).oldestAgeMs;
      return { peer, changes, seconds: (oldest ?? 0) / 1000, lastAskedAgeMs: a === undefined ? null : now - a.atMs };
    });
  }
}
