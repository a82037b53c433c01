import type { HttpStats } from '../server/http-server.js';
import type { StoreHealth, StoreStats } from '../storage/register-store.js';
import type { ChannelStats } from '../transport/peer-channel.js';
import type { PeerHealth } from './failure-detector.js';
import type { PeerLag } from '../core/catchup.js';
import type { PullerLag } from './pullers.js';
import type { Redundancy } from './redundancy.js';
import type { OpStats } from './runtime.js';
import type { MemberServing } from './status.js';

/** One member as `shmem member list` shows it. */
export interface MemberRow {
  readonly id: string;
  readonly address: string;
  /** voting: counted now; joining: in the next set only (being filled); leaving: in the old set only. */
  readonly state: 'voting' | 'joining' | 'leaving';
  /** The node id its heartbeats report (founding members are listed by address until then). */
  readonly nodeId: string | null;
  readonly health: string;
}

/** The member set: GET /members, and `cluster.membership` of /status. */
export interface MemberList {
  readonly clusterId: string;
  readonly epoch: number;
  /** stable: one member set counts; joint: a change is in progress, both sets count. */
  readonly phase: 'stable' | 'joint';
  readonly members: readonly MemberRow[];
  /** This node is in the member set (else it is joining, or was removed). */
  readonly thisNodeIsMember: boolean;
  /** The state transfer of a change, as far as this node ran it. */
  readonly transfer: { readonly epoch: number; readonly registers: number; readonly cursor: number | null } | null;
}

/**
 * The document GET /status answers, typed once for the node that builds it (run-daemon.ts)
 * and the clients that read it (`shmem status`, `shmem top`). Admins also get the fields
 * marked "admin": local facts of the machine.
 */
export interface StatusDoc {
  readonly node: {
    readonly id: string;
    readonly member: string;
    readonly writer: string;
    readonly incarnation: number;
    readonly version: string;
    readonly uptimeMs: number;
    readonly recovering: boolean;
    /** While recovering a wiped data dir (docs/recovery.md); `explanation` when beyond the fault budget. */
    readonly recovery: {
      readonly sourcesNeeded: number;
      readonly sourcesDone: readonly string[];
      readonly phase: string;
      readonly recoveringOthers: readonly string[];
      readonly beyondBudget: boolean;
      readonly served: boolean;
      readonly explanation: string | null;
    } | null;
    readonly tls: boolean;
    /** admin */
    readonly pid?: number;
    /** admin */
    readonly dataDir?: string;
    /** admin */
    readonly security?: Readonly<Record<string, unknown>>;
  };
  readonly cluster: {
    readonly id: string;
    readonly members: readonly string[];
    readonly size: number;
    readonly quorum: number;
    /** Members that answer as replicas now (status.ts): what reads and writes can use. */
    readonly serving: number;
    readonly hasQuorum: boolean;
    readonly verdict: string;
    readonly verdictCode: 'ok' | 'degraded' | 'no_quorum';
    readonly unavailable: readonly MemberServing[];
    /** The member set as configurations (docs/membership.md). */
    readonly membership: MemberList;
  };
  readonly peers: readonly PeerHealth[];
  readonly store: StoreStats & { readonly health: StoreHealth };
  /** Catch-up (docs/catch-up.md): this node's change log, how far it is behind each peer and each peer behind it. */
  readonly catchup: {
    readonly log: string;
    readonly head: number;
    readonly behind: readonly PeerLag[];
    readonly peersBehind: readonly PullerLag[];
    readonly redundancy: Redundancy;
  };
  readonly ops: OpStats;
  readonly http: HttpStats | undefined;
  /** admin: per-peer channel counters */
  readonly transport?: Readonly<Record<string, ChannelStats>>;
}

