import { limits } from '../core/limits.js';
import type { MemberId } from '../core/types.js';
import type { Logger } from '../log/logger.js';
import { PeerRefusedError } from '../transport/peer-link.js';
import type { HttpLink } from '../transport/http-link.js';

export type PeerState = 'up' | 'suspect' | 'down' | 'mismatch';

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
  recovering: boolean;
}

/**
 * Heartbeats (seed 001): pings every peer each interval and classifies it as up, suspect
 * (silent for suspectAfterMs), down (silent for downAfterMs or never seen) or mismatch
 * (it refuses our member set). Quorums never consult this: only majorities decide.
 */
export class FailureDetector {
  private readonly entries = new Map<MemberId, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly links: readonly HttpLink[], private readonly intervalMs: number, private readonly logger: Logger) {
    for (const l of links) this.entries.set(l.member, { nodeId: null, lastContact: null, rttMs: null, error: null, mismatch: false, recovering: false });
  }

  start(): void {
    const tick = (): void => {
      for (const link of this.links) void this.ping(link);
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  health(): PeerHealth[] {
    const now = Date.now();
    return this.links.map(({ member }) => {
      const e = this.entries.get(member)!;
      const silentMs = now - (e.lastContact ?? this.startedAt);
      const state: PeerState = e.mismatch ? 'mismatch'
        : e.lastContact === null ? (silentMs < limits.suspectAfterMs ? 'suspect' : 'down')
        : silentMs >= limits.downAfterMs ? 'down'
        : silentMs >= limits.suspectAfterMs ? 'suspect' : 'up';
      return {
        member, state, nodeId: e.nodeId,
        lastContactMsAgo: e.lastContact === null ? null : now - e.lastContact,
        rttMs: e.rttMs, recovering: e.recovering, error: e.error,
      };
    });
  }

  private async ping(link: HttpLink): Promise<void> {
    const e = this.entries.get(link.member)!;
    const sent = performance.now();
    try {
      const reply = await link.ping(Math.max(this.intervalMs * 2, 250));
      if (e.lastContact === null || e.mismatch || (e.lastContact !== null && Date.now() - e.lastContact >= limits.downAfterMs)) {
        this.logger.info('peer up', { peer: link.member, peerNode: reply.nodeId });
      }
      e.rttMs = Math.round((performance.now() - sent) * 100) / 100;
      e.lastContact = Date.now();
      e.nodeId = reply.nodeId;
      e.recovering = reply.recovering === true;
      e.error = null;
      e.mismatch = false;
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof PeerRefusedError && !e.mismatch) this.logger.error('peer refuses this node', { peer: link.member, reason: message });
      e.mismatch = err instanceof PeerRefusedError;
      e.error = message;
    }
  }
}
