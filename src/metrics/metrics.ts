import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics read from other modules at scrape time. */
export interface MetricsSources {
  peers(): readonly { member: string; state: string; rttMs: number | null }[];
  channels(): readonly { member: string; retries: number; batchesSent: number; itemsSent: number }[];
  recovering(): boolean;
  /** Stored registers that failed their checksum and are not repaired yet. */
  damaged(): number;
  /** Epoch of the member set held (the next one during a change), and whether a change is in progress. */
  epoch(): number;
  joint(): boolean;
  /** How far this node is behind each peer (catch-up, docs/catch-up.md), and what it fixed from each. */
  catchup(): readonly { peer: string; changes: number | null; seconds: number | null; fixed: number }[];
  /** How far each peer is behind this node's changes, from their catch-up requests. */
  pullers(): readonly { peer: string; changes: number; seconds: number }[];
}

export type OpOutcome = 'ok' | 'quorum_unavailable' | 'membership_mismatch' | 'shutting_down' | 'outcome_unknown'
  | 'cas_mismatch' | 'not_a_number' | 'out_of_range';

/** The client operations a node coordinates. */
export type OpKind = 'read' | 'write' | 'cas' | 'add';

/**
 * Where a successful operation's time went (issue 17): `query` from its start to its first
 * update sent (all of it for a fast-path read), `update` from then to its answer (a write's
 * update phase, a read's write-back); undefined for a failed one.
 */
export interface OpPhases {
  readonly querySeconds: number;
  readonly updateSeconds: number | undefined;
}

/**
 * The node's Prometheus metrics (prom-client), served at GET /metrics. One registry per node
 * (never the global one), so tests and several nodes in one process do not mix.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly ops: Counter<'op' | 'outcome'>;
  private readonly rmwRetries: Counter<'op'>;
  private readonly opSeconds: Histogram<'op'>;
  private readonly quorumFailures: Counter;
  private readonly fastPathReads: Counter;
  private readonly commitSeconds: Histogram;
  private readonly phaseSeconds: Histogram<'op' | 'phase'>;
  private readonly commitWaitSeconds: Histogram;
  private readonly batchItems: Histogram;
  private readonly peerInputRefused: Counter<'reason'>;
  private readonly accessRefused: Counter<'scope' | 'code'>;
  private readonly reloads: Counter<'outcome'>;
  private readonly memberChanges: Counter<'step'>;
  private readonly damage: Counter;
  private readonly connectionsRefused: Counter<'reason'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // Node's default metrics already start with process_ or nodejs_: shmem_process_resident_memory_bytes.
    collectDefaultMetrics({ register: this.registry, prefix: 'shmem_' });
    // prom-client has external memory but not its array buffers (Buffers: peer frames, bodies, SQLite values).
    new Gauge({
      name: 'shmem_nodejs_array_buffers_bytes', help: 'Memory of ArrayBuffers and Buffers, part of external memory', registers: [this.registry],
      collect() {
        this.set(process.memoryUsage().arrayBuffers);
      },
    });
    // How much of the RSS the V8 heap holds (its touched pages): RSS minus this is native memory
    // (SQLite, malloc, libuv, thread stacks), which tells a leak in JS from one outside it.
    new Gauge({
      name: 'shmem_nodejs_heap_physical_bytes', help: 'Physical memory the V8 heap holds (part of RSS)', registers: [this.registry],
      collect() {
        this.set(getHeapStatistics().total_physical_size);
      },
    });
    this.ops = new Counter({
      name: 'shmem_operations_total', labelNames: ['op', 'outcome'], registers,
      help: 'Client operations by type (read, write, cas, add) and outcome (ok, or the error code: cas_mismatch counts compare-and-set conflicts)',
    });
    this.rmwRetries = new Counter({
      name: 'shmem_rmw_retries_total', labelNames: ['op'], registers,
      help: 'Compare-and-set and add attempts preempted by a higher ballot of another member, each retried after a backoff',
    });
    this.opSeconds = new Histogram({
      name: 'shmem_operation_duration_seconds', help: 'Latency of client operations coordinated here', labelNames: ['op'], registers,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    });
    this.quorumFailures = new Counter({ name: 'shmem_quorum_failures_total', help: 'Operations that could not reach a quorum before their deadline', registers });
    this.fastPathReads = new Counter({ name: 'shmem_read_fast_path_total', help: 'Reads that returned after one round because the quorum agreed', registers });
    this.commitSeconds = new Histogram({
      name: 'shmem_sqlite_commit_duration_seconds', help: 'Duration of one SQLite group commit (including fsync)', registers,
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    });
    // Where a lone operation's time goes (issue 17): the coordinator's phases, and on the replica
    // the wait of an update for its commit (the commit itself is the histogram above).
    this.phaseSeconds = new Histogram({
      name: 'shmem_operation_phase_duration_seconds', labelNames: ['op', 'phase'], registers,
      help: 'Phases of successful operations coordinated here: query (start to first update sent; a fast-path read is all query), update (a write\'s update round, a read\'s write-back)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
    });
    this.commitWaitSeconds = new Histogram({
      name: 'shmem_sqlite_commit_wait_seconds', registers,
      help: 'How long an update waited in the store before its group commit started (a commit in progress, the batching turn)',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
    });
    this.batchItems = new Histogram({
      name: 'shmem_group_commit_batch_items', help: 'Register updates written by one group commit', registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    });
    this.peerInputRefused = new Counter({
      name: 'shmem_peer_input_refused_total', help: 'Peer requests refused by the replica\'s input checks (nothing of them applied)',
      labelNames: ['reason'], registers,
    });
    this.accessRefused = new Counter({
      name: 'shmem_access_refused_total', help: 'Requests refused for missing or wrong credentials (401) or role (403)',
      labelNames: ['scope', 'code'], registers,
    });
    this.connectionsRefused = new Counter({
      name: 'shmem_connections_refused_total', help: 'Connections closed at once at a bound (connections_max, per_source_max)', labelNames: ['reason'], registers,
    });
    this.damage = new Counter({ name: 'shmem_register_damage_total', help: 'Stored registers found failing their checksum (never returned; repaired from the other members)', registers });
    new Gauge({
      name: 'shmem_registers_damaged', help: 'Stored registers marked damaged and not yet repaired', registers,
      collect() {
        this.set(sources.damaged());
      },
    });
    this.memberChanges = new Counter({
      name: 'shmem_member_changes_total', help: 'Steps of changes of the member set run here: proposed, chosen, joint, transferred, retired, failed', labelNames: ['step'], registers,
    });
    new Gauge({
      name: 'shmem_config_epoch', help: 'Epoch of the member set this node holds (the next one during a change)', registers,
      collect() { this.set(sources.epoch()); },
    });
    new Gauge({
      name: 'shmem_config_joint', help: '1 while a change of the member set is in progress (operations need a majority of both sets)', registers,
      collect() { this.set(sources.joint() ? 1 : 0); },
    });
    this.reloads = new Counter({ name: 'shmem_credential_reloads_total', help: 'SIGHUP reloads of certificates, tokens and secret', labelNames: ['outcome'], registers });
    new Counter({
      name: 'shmem_peer_retries_total', help: 'Peer requests retried after no answer', labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.channels()) this.inc({ peer: c.member }, c.retries);
      },
    });
    new Counter({
      name: 'shmem_peer_batches_total', help: 'HTTP requests (batches) sent to each member', labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.channels()) this.inc({ peer: c.member }, c.batchesSent);
      },
    });
    new Gauge({
      name: 'shmem_peer_up', help: '1 when the failure detector sees the peer up', labelNames: ['peer'], registers,
      collect() {
        for (const p of sources.peers()) this.set({ peer: p.member }, p.state === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'shmem_peer_rtt_seconds', help: 'Last heartbeat round-trip time', labelNames: ['peer'], registers,
      collect() {
        for (const p of sources.peers()) if (p.rttMs !== null) this.set({ peer: p.member }, p.rttMs / 1000);
      },
    });
    new Gauge({
      name: 'shmem_catchup_lag_changes', help: "The peer's changes this node has not compared yet (catch-up; an upper bound on what is missing here)", labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.catchup()) if (c.changes !== null) this.set({ peer: c.peer }, c.changes);
      },
    });
    new Gauge({
      name: 'shmem_catchup_lag_seconds', help: 'Age of the oldest change of the peer this node has not compared yet (0: caught up)', labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.catchup()) if (c.seconds !== null) this.set({ peer: c.peer }, c.seconds);
      },
    });
    new Counter({
      name: 'shmem_catchup_fixed_total', help: 'Registers found older here and fixed from the peer by catch-up', labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.catchup()) this.inc({ peer: c.peer }, c.fixed);
      },
    });
    new Gauge({
      name: 'shmem_catchup_peer_lag_changes', help: "This node's changes the peer has not compared yet, as its catch-up requests show", labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.pullers()) this.set({ peer: c.peer }, c.changes);
      },
    });
    new Gauge({
      name: 'shmem_catchup_peer_lag_seconds', help: "Age of the oldest change of this node the peer has not compared yet", labelNames: ['peer'], registers,
      collect() {
        this.reset();
        for (const c of sources.pullers()) this.set({ peer: c.peer }, c.seconds);
      },
    });
    new Gauge({
      name: 'shmem_recovering', help: '1 while this node recovers a wiped data dir', registers,
      collect() {
        this.set(sources.recovering() ? 1 : 0);
      },
    });
  }

  observeRmwRetry(op: 'cas' | 'add'): void {
    this.rmwRetries.inc({ op });
  }

  observeOp(op: OpKind, outcome: OpOutcome, seconds: number, fastPath: boolean, phases?: OpPhases): void {
    this.ops.inc({ op, outcome });
    this.opSeconds.observe({ op }, seconds);
    if (phases) {
      this.phaseSeconds.observe({ op, phase: 'query' }, phases.querySeconds);
      if (phases.updateSeconds !== undefined) this.phaseSeconds.observe({ op, phase: 'update' }, phases.updateSeconds);
    }
    if (outcome === 'quorum_unavailable') this.quorumFailures.inc();
    if (fastPath) this.fastPathReads.inc();
  }

  observePeerInputRefused(reason: string): void {
    this.peerInputRefused.inc({ reason });
  }

  observeAccessRefused(scope: string, code: string): void {
    this.accessRefused.inc({ scope, code });
  }

  observeConnectionRefused(reason: string): void {
    this.connectionsRefused.inc({ reason });
  }

  observeDamage(): void {
    this.damage.inc();
  }

  observeMemberChange(step: string): void {
    this.memberChanges.inc({ step });
  }

  observeReload(outcome: 'ok' | 'failed'): void {
    this.reloads.inc({ outcome });
  }

  observeCommit(seconds: number, items: number, waitedSeconds: readonly number[] = []): void {
    this.commitSeconds.observe(seconds);
    for (const w of waitedSeconds) this.commitWaitSeconds.observe(w);
    this.batchItems.observe(items);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
