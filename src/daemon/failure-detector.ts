import { limits } from '../core/limits.js';
import type { MemberId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { realClock, type Clock, type Timer } from '../platform/clock.js';
import { PeerRefusedError, type MemberLink } from '../transport/peer-link.js';

/** `starting`: not heard from since this node started, within the start-up grace (it may be starting too). */
export type PeerState = 'up' | 'starting' | 'suspect' | 'down' | 'mismatch';

/** What this node believes about one peer. For status and dashboards only, never safety. */
export interface PeerHealth {
  readonly member: MemberId;
  readonly state: PeerState;
  readonly nodeId: string | null;
  readonly lastContactMsAgo: number | null;
  readonly rttMs: number | null;
  /** The peer said it is recovering a wiped data dir (its replica does not answer yet). */
  readonly recovering: boolean;
  readonly error: string | null;
}

interface Entry {
  nodeId: string | null;
  lastContact: number | null;
  rttMs: number | null;
  error: string | null;
  mismatch: boolean;
  /** The last ping found nothing listening at the peer's address (connection refused). */
  refused: boolean;
  recovering: boolean;
  /** The state last logged, when, since when it held, the state last seen, and changes the rate limit held back. */
  logged: PeerState | undefined;
  loggedAtMs: number;
  sinceMs: number;
  seen: PeerState | undefined;
  unlogged: number;
}

/** At most one state-change line per peer in this interval (a flapping peer cannot flood the log). */
const STATE_LOG_INTERVAL_MS = 10_000;

/**
 * Heartbeats (seed 001): pings every peer each interval and classifies it as up, starting
 * (never heard from since this node started, for limits.startingGraceMs), suspect (silent for
 * suspectAfterMs), down (silent for downAfterMs, never heard from past the grace, or refusing
 * connections once heard from: nothing listens at its address) or mismatch (it refuses our
 * member set). Quorums never consult this: only majorities decide. `refresh` pings some peers
 * now, for a verdict that must not rest on a heartbeat up to an interval old (status.ts).
 */
export class FailureDetector {
  private readonly entries = new Map<MemberId, Entry>();
  private timer: Timer | undefined;
  private stopped = false;
  private readonly startedAt: number;

  constructor(
    private links: readonly MemberLink[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
  ) {
    this.startedAt = clock.now();
    this.setLinks(links);
  }

  /** The members to watch changed (a change of the member set): new ones start unseen, removed ones are forgotten. */
  setLinks(links: readonly MemberLink[]): void {
    this.links = [...links];
    for (const l of links) {
      if (this.entries.has(l.member)) continue;
      this.entries.set(l.member, {
        nodeId: null, lastContact: null, rttMs: null, error: null, mismatch: false, refused: false, recovering: false,
        logged: undefined, loggedAtMs: Number.NEGATIVE_INFINITY, sinceMs: this.clock.now(), seen: undefined, unlogged: 0,
      });
    }
    for (const member of [...this.entries.keys()]) if (!links.some((l) => l.member === member)) this.entries.delete(member);
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.logChanges();
      for (const link of this.links) void this.ping(link);
      this.timer = this.clock.setTimeout(tick, this.intervalMs);
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  health(): PeerHealth[] {
    const now = this.clock.now();
    return this.links.map(({ member }) => {
      const e = this.entries.get(member)!;
      const silentMs = now - (e.lastContact ?? this.startedAt);
      const state: PeerState = e.mismatch ? 'mismatch'
        // A peer never heard from is starting (as a new cluster's members start one by one), not a
        // failure, until the grace has passed; then it is down.
        : e.lastContact === null ? (silentMs < limits.startingGraceMs ? 'starting' : 'down')
        // Nothing listens there: its process is gone (kill -9, crash, stopped service), no need to
        // wait out the silence.
        : e.refused ? 'down'
        : silentMs >= limits.downAfterMs ? 'down'
        : silentMs >= limits.suspectAfterMs ? 'suspect' : 'up';
      return {
        member, state, nodeId: e.nodeId,
        lastContactMsAgo: e.lastContact === null ? null : Math.round(now - e.lastContact),
        // A round trip measured before the peer went silent says nothing about it now.
        rttMs: state === 'up' ? e.rttMs : null, recovering: e.recovering, error: e.error,
      };
    });
  }

  /**
   * Logs each change of a peer's state once, at warn, with how long the previous state
   * lasted: up -> suspect -> down -> up, and mismatch. Rate-limited per peer; the next line
   * says how many changes were not logged.
   */
  private logChanges(): void {
    const now = this.clock.now();
    for (const h of this.health()) {
      const e = this.entries.get(h.member)!;
      if (e.logged === undefined) {
        // The first state seen is not a change (starting is no state yet), unless the peer starts out unreachable long enough to be down.
        if (h.state === 'up' || h.state === 'mismatch' || h.state === 'down') {
          if (h.state !== 'up') this.logger.warn(`peer ${h.state}`, { peer: h.member, error: h.error ?? undefined });
          e.logged = h.state;
          e.seen = h.state;
          e.sinceMs = now;
        }
        continue;
      }
      const changed = h.state !== e.seen;
      e.seen = h.state;
      if (h.state === e.logged) continue;
      if (now - e.loggedAtMs < STATE_LOG_INTERVAL_MS && e.logged !== 'down' && h.state !== 'down') {
        if (changed) e.unlogged += 1;
        continue;
      }
      const fields = {
        peer: h.member, from: e.logged, forMs: Math.round(now - e.sinceMs), ...(e.unlogged > 0 ? { changesNotLogged: e.unlogged } : {}),
        ...(h.state !== 'up' && h.error ? { error: h.error } : {}),
      };
      this.logger.warn(h.state === 'up' ? `peer up again after ${describeMs(now - e.sinceMs)} ${e.logged}` : `peer ${h.state}`, fields);
      e.logged = h.state;
      e.loggedAtMs = now;
      e.sinceMs = now;
      e.unlogged = 0;
    }
  }

  /**
   * Pings `members` now and waits for their answers, at most `deadlineMs`: what status and
   * readiness say before they count a member out must not be a heartbeat up to an interval old
   * (a member that finished recovering or started a moment ago).
   */
  async refresh(members: readonly MemberId[], deadlineMs: number): Promise<void> {
    const pings = this.links.filter((l) => members.includes(l.member)).map((l) => this.ping(l, deadlineMs));
    let timer: Timer | undefined;
    await Promise.race([Promise.allSettled(pings), new Promise<void>((r) => (timer = this.clock.setTimeout(r, deadlineMs)))]);
    this.clock.clearTimeout(timer);
  }

  private async ping(link: MemberLink, timeoutMs = Math.max(this.intervalMs * 2, 250)): Promise<void> {
    const e = this.entries.get(link.member);
    if (!e) return; // no longer a member
    const sent = this.clock.now();
    try {
      const reply = await link.ping(timeoutMs);
      if (e.lastContact === null) this.logger.info('peer up', { peer: link.member, peerNode: reply.nodeId });
      e.rttMs = Math.round((this.clock.now() - sent) * 100) / 100;
      e.lastContact = this.clock.now();
      e.nodeId = reply.nodeId;
      e.recovering = reply.recovering === true;
      e.error = null;
      e.mismatch = false;
      e.refused = false;
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof PeerRefusedError && !e.mismatch) this.logger.error('peer refuses this node', { peer: link.member, reason: message });
      e.mismatch = err instanceof PeerRefusedError;
      e.refused = /\bECONNREFUSED\b/.test(message);
      e.error = message;
    }
  }
}

/** "1.2 s", "3 min 4 s": a duration for a log message. */
export function describeMs(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
