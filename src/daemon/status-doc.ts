import type { HttpStats } from '../server/http-server.js';
import type { StoreHealth, StoreStats } from '../storage/register-store.js';
import type { ChannelStats } from '../transport/peer-channel.js';
import type { PeerHealth } from './failure-detector.js';
import type { OpStats } from './runtime.js';
import type { MemberServing } from './status.js';

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
    readonly recovery: { readonly sourcesNeeded: number; readonly sourcesDone: readonly string[] } | null;
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
  };
  readonly peers: readonly PeerHealth[];
  readonly store: StoreStats & { readonly health: StoreHealth };
  readonly ops: OpStats;
  readonly http: HttpStats | undefined;
  /** admin: per-peer channel counters */
  readonly transport?: Readonly<Record<string, ChannelStats>>;
}

