import type { HistoryEvent } from '../../src/check/history.js';
import { checkHistory, type Verdict } from '../../src/check/linearizability.js';
import { limits } from '../../src/core/limits.js';
import { ChangeRefusedError, isDefiniteFailure } from '../../src/errors.js';
import type { Addr, MemberId } from '../../src/core/types.js';
import { MemoryDisk } from '../../src/storage/memory-store.js';
import { SimNetwork } from './network.js';
import { Random } from './random.js';
import { killSimNode, startSimNode, type SimMutations, type SimProcess } from './sim-node.js';
import { World } from './world.js';
import type { ChangeRequest } from '../../src/daemon/member-changes.js';
import { compareStates, stateRank, type Configuration, type ConfigState } from '../../src/membership/configuration.js';
import { bootstrapState, participantAddresses } from '../../src/membership/keeper.js';
import { compareTags, formatTag } from '../../src/core/tag.js';
import type { Tag } from '../../src/core/types.js';

/**
 * Deterministic simulation of whole shmem nodes (TigerBeetle's VOPR, FoundationDB's
 * simulation, at shmem's scale): N real ShmemNodes, wired as the daemon wires them (runtime,
 * channels with their batching and retries, heartbeats, recovery and repair runners), each on
 * a virtual clock, a MemoryStore with SQLite's durability contract, and links over a seeded
 * network. Clients call the nodes' read and write. Faults come from the seed: messages
 * dropped, duplicated, delayed and reordered; directed partitions; crashes at any point
 * (also between a commit and its acknowledgements, and during recovery); graceful stops;
 * wiped data dirs; slow and failing disks; rotten registers; broken connections; refusing
 * peers; paused processes (their timers jump); wall clock jumps. Every history must be
 * linearizable; once the faults stop, every operation must succeed in bounded virtual time,
 * and every node must finish recovery and repair; node queues stay bounded throughout.
 * Same seed, same run.
 */

export type { SimMutations } from './sim-node.js';

export const FAULT_KINDS = [
  'crash', 'crash-after-commit', 'wipe', 'stop', 'isolate', 'split', 'one-way', 'stall',
  'slow-disk', 'disk-full', 'rot', 'reset', 'refuse', 'wall-jump', 'wipe-mid-write', 'rot-mid-write', 'rot-value', 'rot-value-stop', 'wipe-storm',
] as const;
export type FaultKind = typeof FAULT_KINDS[number];

/**
 * Faults past the budget, which end availability for the rest of the run (docs/recovery.md): not
 * drawn like the others, but scheduled once, in every seed when asked for alone and in one seed
 * in STORM_EVERY_SEEDS of the mix.
 */
const TERMINAL: ReadonlySet<FaultKind> = new Set(['wipe-storm']);
export const STORM_EVERY_SEEDS = 20;

/** Faults that make a node unable to serve for a while: at most `maxFaulty` nodes at once (unless the seed is a chaos seed). */
const HEAVY: ReadonlySet<FaultKind> = new Set(['crash', 'crash-after-commit', 'wipe', 'wipe-mid-write', 'stop', 'isolate', 'split', 'one-way', 'stall', 'disk-full', 'refuse', 'rot-value-stop']);

/** One injected fault, as data: what, where, when and for how long (printed when replaying a seed). */
export interface Fault {
  readonly atMs: number;
  /** A fault, or a change of the member set asked of `member`. */
  readonly kind: FaultKind | `member ${ChangeRequest['action']}` | 'old-new-split' | 'wipe-chooser';
  readonly member: MemberId;
  readonly peers?: readonly MemberId[];
  readonly durationMs: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  /** Operations per client while faults happen, then after they stopped. */
  readonly opsPerClient: number;
  readonly quietOpsPerClient: number;
  readonly addrs: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** One-way delay bounds (virtual ms); random delays reorder messages. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  readonly longDelayRate: number;
  readonly longDelayMs: number;
  /** Largest commit (fsync) latency of a healthy disk; a slow disk takes up to slowCommitMs. */
  readonly commitDelayMaxMs: number;
  readonly slowCommitMs: number;
  /** Mean virtual ms between fault injections; 0 disables faults. */
  readonly faultEveryMs: number;
  readonly faults: readonly FaultKind[];
  /** Most nodes under a heavy fault at once; default: a minority. */
  readonly maxFaulty: number;
  /** Share of seeds that ignore maxFaulty (any number of nodes down: safety must still hold). */
  readonly chaosRate: number;
  /** Share of partitions that last long (10 to 30 s): queues must stay bounded meanwhile. */
  readonly longPartitionRate: number;
  /** Drops after the faults stopped: connections still break now and then, and retries must cover it. */
  readonly quietDropRate: number;
  readonly opDeadlineMs: number;
  readonly requestDeadlineMs: number;
  readonly heartbeatIntervalMs: number;
  readonly pageItems: number;
  /** After the faults stop: each operation succeeds within this; recovery and repair finish within recoveryBoundMs. */
  readonly livenessBoundMs: number;
  readonly recoveryBoundMs: number;
  /** Then every replica must hold the same tag for every address within this (catch-up). */
  readonly convergeBoundMs: number;
  readonly mutations: SimMutations;
  /** Bound on events processed (a run that exceeds it is a livelock). */
  readonly maxEvents: number;
  /** Collect the nodes' log lines (replaying a seed). */
  readonly log: boolean;
  /**
   * Change the member set while it runs (docs/membership.md): the first `founders` processes
   * found the cluster, the others start outside it; members add, remove and replace members
   * (now and then two at once) every ~reconfigureEveryMs until the faults stop. 0: never.
   */
  readonly reconfigureEveryMs: number;
  readonly founders: number;
}

/** The catch-up pace of a node that is busy (every other seed). */
const SLOW_CATCHUP = { idleMs: 3_000, gapMs: 500, busyFactor: 4, quietFactor: 4, pauseMsMax: 10_000, backoffMsMax: 5_000, positionSaveMs: 20_000 } as const;

export function defaultSimOptions(seed: number, overrides: Partial<SimOptions> = {}): SimOptions {
  const nodes = overrides.nodes ?? 3;
  return {
    seed, nodes, clients: 6, opsPerClient: 30, quietOpsPerClient: 10, addrs: 6,
    dropRate: 0.04, duplicateRate: 0.03, delayMinMs: 1, delayMaxMs: 12, longDelayRate: 0.02, longDelayMs: 400,
    commitDelayMaxMs: 6, slowCommitMs: 600,
    faultEveryMs: 250, faults: FAULT_KINDS, maxFaulty: Math.floor((nodes - 1) / 2), chaosRate: 0.1, longPartitionRate: 0.05,
    quietDropRate: 0.01,
    opDeadlineMs: limits.opDeadlineMsDefault, requestDeadlineMs: limits.peerRequestDeadlineMsDefault,
    heartbeatIntervalMs: limits.heartbeatIntervalMsDefault, pageItems: 2,
    livenessBoundMs: limits.opDeadlineMsDefault, recoveryBoundMs: 120_000, convergeBoundMs: 30_000,
    mutations: {}, maxEvents: 3_000_000, log: false, reconfigureEveryMs: 0, founders: nodes,
    ...overrides,
  };
}

export interface SimCounts {
  ops: number; ok: number; fail: number; info: number; faults: number; wipes: number;
  /** Member changes asked, completed, and the highest epoch reached. */
  changes: number; changesDone: number; maxEpoch: number;
  /** Operations after the faults stopped that failed because their node left the member set (the client moves on). */
  leftMemberSet: number;
  messages: number; events: number; virtualMs: number;
  /** Largest queues seen on any node: channel requests, link calls, uncommitted store batches. */
  maxChannelOutstanding: number; maxLinkCalls: number; maxStoreQueued: number;
  /** Virtual ms from every member recovered to every replica holding the same tags (catch-up). */
  convergedMs: number;
  /** A wipe storm left the cluster beyond its fault budget: every member still recovering said so. */
  stuck: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly history: HistoryEvent[];
  readonly verdict: Verdict;
  /** Liveness and boundedness problems (empty when none). */
  readonly problems: string[];
  readonly faults: Fault[];
  readonly counts: SimCounts;
  readonly log: string[];
}

/** A node process (one incarnation of a member) and the client operations waiting on it. */
interface Proc extends SimProcess {
  readonly ops: Set<ClientOp>;
  stopping: boolean;
  crashAfterCommit: boolean;
}

/** A member: its disk outlives its processes. */
interface Member {
  readonly id: MemberId;
  readonly index: number;
  disk: MemoryDisk;
  wipes: number;
  /** Wiped, and not restarted yet. */
  wipePending: boolean;
  /** A rot-mid-write fault will rot a register of this disk in a moment (a disk fault under way). */
  rotPending: boolean;
  proc: Proc | undefined;
  /** Bumped whenever a pending restart is superseded. */
  restartToken: number;
  /** Virtual time until which a heavy fault holds this member. */
  busyUntil: number;
  slowDiskUntil: number;
  diskFullUntil: number;
  refusingUntil: number;
}

interface ClientOp {
  readonly client: number;
  readonly f: 'read' | 'write' | 'cas' | 'add';
  readonly addr: Addr;
  readonly invokedMs: number;
  readonly quiet: boolean;
  /** The member it went through. */
  readonly node: MemberId;
  done: boolean;
  /** The client's next step. */
  readonly next: () => void;
  /** Set when the node it went through left the member set meanwhile: it fails the op, and a client tries another endpoint. */
  leftMemberSet?: boolean;
}

export async function simulate(options: SimOptions): Promise<SimResult> {
  // Errors are made by the thousand (refused connections, timeouts) and their stacks are
  // never read: not capturing them makes runs 20% faster. A replay with the log keeps them.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!options.log) Error.stackTraceLimit = 0;
  try {
    return await new Simulation(options).run();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

class Simulation {
  private readonly rng: Random;
  private readonly world = new World();
  private readonly net: SimNetwork;
  private readonly members: Member[];
  private readonly ids: MemberId[];
  private readonly history: HistoryEvent[] = [];
  private readonly problems: string[] = [];
  private readonly faults: Fault[] = [];
  private readonly log: string[] | undefined;
  private readonly counts: SimCounts = {
    ops: 0, ok: 0, fail: 0, info: 0, faults: 0, wipes: 0, messages: 0, events: 0, virtualMs: 0, changes: 0, changesDone: 0, maxEpoch: 1, leftMemberSet: 0,
    maxChannelOutstanding: 0, maxLinkCalls: 0, maxStoreQueued: 0, convergedMs: 0, stuck: false,
  };
  /** A wipe storm happened (docs/recovery.md): liveness is not asked, saying why is. */
  private stormed = false;
  /**
   * rot-value-stop (docs/storage-integrity.md): while one member is stopped and another's value
   * of `addr` is damaged, operations on `addr` through the members still running must succeed.
   */
  private readonly mustServe: { addr: Addr; members: readonly MemberId[]; fromMs: number; untilMs: number }[] = [];
  private readonly chaos: boolean;
  private clientsInFaultPhase: number;
  private clientsLeft: number;
  /** Faults have stopped (heal() ran). */
  private healed = false;
  /** Clients are in the quiet phase: faults stopped and a majority serves again. */
  private quiet = false;
  private healedAtMs = 0;
  private finished = false;
  /** States for which an old/new split was considered, and the two sets of each joint state seen (by the new epoch). */
  private readonly splitsConsidered = new Set<string>();
  private readonly jointsSeen = new Map<number, readonly [Configuration, Configuration]>();
  /** Every member set seen per epoch (S1). */
  private readonly epochs = new Map<number, string>();

  constructor(private readonly o: SimOptions) {
    this.rng = new Random(o.seed);
    this.chaos = this.rng.chance(o.chaosRate);
    this.log = o.log ? [] : undefined;
    this.ids = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
    this.net = new SimNetwork(this.world, this.rng, {
      dropRate: o.dropRate, duplicateRate: o.duplicateRate, delayMinMs: o.delayMinMs, delayMaxMs: o.delayMaxMs,
      longDelayRate: o.longDelayRate, longDelayMs: o.longDelayMs,
    }, { requestDeadlineMs: o.requestDeadlineMs, pageItems: o.pageItems, registersDeadlineMs: 30_000 });
    this.members = this.ids.map((id, index) => ({
      id, index, disk: new MemoryDisk(), wipes: 0, wipePending: false, rotPending: false, proc: undefined, restartToken: 0,
      busyUntil: 0, slowDiskUntil: 0, diskFullUntil: 0, refusingUntil: 0,
    }));
    this.clientsInFaultPhase = o.clients;
    this.clientsLeft = o.clients;
  }

  async run(): Promise<SimResult> {
    // A new cluster: every member starts with an empty data dir.
    for (const m of this.members) this.start(m);
    for (let c = 0; c < this.o.clients; c++) this.world.queue.after(this.rng.int(0, 20), () => this.clientStep(c, 0));
    if (this.o.faultEveryMs > 0 && this.o.faults.some((f) => !TERMINAL.has(f))) this.world.queue.after(this.rng.int(1, this.o.faultEveryMs * 2), () => this.injectFault());
    this.scheduleStorm();
    this.world.queue.after(50, () => this.checkBounds());
    if (this.o.reconfigureEveryMs > 0) this.world.queue.after(this.rng.int(1, this.o.reconfigureEveryMs * 2), () => this.injectChange());
    try {
      this.counts.events = await this.world.run({ until: () => this.finished, maxEvents: this.o.maxEvents });
    } catch (err) {
      this.problems.push(`livelock: ${(err as Error).message}`); if (process.env["SIM_STACK"]) console.error((err as Error).stack);
    }
    if (!this.finished) this.problems.push(`the run stopped at ${this.world.now} ms with ${this.clientsLeft} clients unfinished (nothing left to run)`);
    for (const m of this.members) if (m.proc) this.kill(m);
    this.counts.messages = this.net.messages;
    this.counts.virtualMs = this.world.now;
    return {
      seed: this.o.seed, history: this.history, verdict: checkHistory(this.history, { budgetMs: 20_000 }),
      problems: this.problems, faults: this.faults, counts: this.counts, log: this.log ?? [],
    };
  }

  // ---- processes -----------------------------------------------------------------------

  /** Starts a process for `m` on its disk (sim-node.ts: the node as `shmem start` wires it). */
  private start(m: Member): void {
    let proc: Proc | undefined;
    const started = startSimNode(this.net, m.id, m.disk, {
      members: this.ids, opDeadlineMs: this.o.opDeadlineMs, heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      randomSeed: this.rng.int(0, 2 ** 31), mutations: this.o.mutations, log: this.log,
      // Catch-up is paced, and lags on a busy node: in every other seed it asks far less often,
      // so the windows in which a replica misses a write stay as wide as without it.
      ...(this.o.seed % 2 === 0 ? { catchupPace: SLOW_CATCHUP } : {}),
      ...(this.o.reconfigureEveryMs > 0 ? { membership: { initial: () => this.initialState() } } : {}),
      refusing: () => this.world.now < m.refusingUntil ? 'another cluster secret' : undefined,
      store: {
        commitDelayMs: () => this.world.now < m.slowDiskUntil ? this.rng.int(this.o.commitDelayMaxMs, this.o.slowCommitMs) : this.rng.int(0, this.o.commitDelayMaxMs),
        commitFailure: () => this.world.now < m.diskFullUntil ? 'the disk is full (SQLITE_FULL)' : undefined,
        afterCommit: () => {
          if (m.proc === proc && proc?.crashAfterCommit) this.crashNow(m, this.rng.int(5, 500));
        },
      },
    });
    proc = { ...started, ops: new Set(), stopping: false, crashAfterCommit: false };
    // S1 (docs/membership.md): never two member sets for one epoch, on any node.
    const record = (state: ConfigState): void => {
      for (const c of state.kind === 'joint' ? [state.current, state.next] : [state.current]) {
        const text = c.members.map((x) => x.address).join(',');
        const seen = this.epochs.get(c.epoch);
        if (seen === undefined) this.epochs.set(c.epoch, text);
        else if (seen !== text) this.problems.push(`two member sets for epoch ${c.epoch}: ${seen} and ${text} (${m.id})`);
      }
    };
    if (started.keeper) {
      record(started.keeper.state);
      started.keeper.onChange((next) => {
        record(next);
        this.maybeWipeChooser(next, m);
        this.maybeSplitOldFromNew(next, m);
      });
    }
    m.proc = proc;
    proc.node.onRecoveryFailed = (err) => this.problems.push(`${m.id}: recovery failed: ${String(err)}`);
  }

  // ---- member changes -------------------------------------------------------------------

  /**
   * The state an empty disk starts with: the founding set at the first start, else the newest
   * state a running process holds (what membership-boot.ts fetches: a wiped founder's probe
   * of its peers, a joining node's --join).
   */
  private initialState(): ConfigState {
    let newest: ConfigState | undefined;
    for (const m of this.members) {
      const s = m.proc?.keeper?.state;
      if (s && (newest === undefined || compareStates(s, newest) > 0)) newest = s;
    }
    return newest ?? bootstrapState(this.ids.slice(0, this.o.founders));
  }

  /**
   * The proposer wiped the moment its value is chosen, before it tells anyone: the votes of its
   * lost acceptor were part of the choice, and the next proposer must still find the value
   * (seed 9991 found this shape by chance in 10,000 seeds; this makes it common).
   */
  private maybeWipeChooser(state: ConfigState, at: Member): void {
    if (this.healed || state.kind !== 'joint' || this.jointsSeen.has(state.next.epoch)) return;
    const now = this.world.now;
    const diskBusy = this.members.some((m) => m.disk.damaged.size > 0 || m.wipePending || m.rotPending || m.disk.meta.get('initialized') !== '1');
    const othersFaulty = this.members.some((m) => m !== at && m.proc?.node.replica.recovering === true);
    const proc = at.proc;
    if (diskBusy || othersFaulty || !proc || proc.stopping || !this.rng.chance(0.3)) return;
    const others = this.members.filter((m) => m !== at);
    this.counts.faults += 1;
    this.faults.push({ atMs: now, kind: 'wipe-chooser', member: at.id, peers: others.map((m) => m.id), durationMs: 0 });
    at.wipePending = true;
    at.busyUntil = now + 1_000;
    this.partition([at], others, 20, true); // its news is lost
    this.world.queue.after(0, () => {
      if (at.proc !== proc) {
        at.wipePending = false;
        return;
      }
      this.kill(at);
      this.restartLater(at, this.rng.int(1, 50), true);
    });
  }

  /**
   * A partition between the old and the new member set, at the moment the first node enters
   * a joint state (the proposer, as it starts telling the others) or the first retired member
   * learns it is out. One side is a majority of the old set: its members that are not in the
   * new one (the retired member first), filled up with members of both, those that have not
   * heard of the new state first; the other side is everyone else. Then one side may hold a
   * majority of the old set only, the other of the new set only: an operation that counts one
   * set's quorum alone during the change, or a retired member that still answers, is seen.
   */
  private maybeSplitOldFromNew(state: ConfigState, at: Member): void {
    if (state.kind === 'joint') this.jointsSeen.set(state.next.epoch, [state.current, state.next]);
    const retiring = state.kind === 'stable' && !state.current.members.some((x) => x.address === at.id);
    const key = state.kind === 'joint' ? `joint ${state.next.epoch}` : `retired ${state.current.epoch}`;
    if (this.healed || (state.kind === 'stable' && !retiring) || this.splitsConsidered.has(key)) return;
    this.splitsConsidered.add(key);
    const pair = state.kind === 'joint' ? [state.current, state.next] as const : this.jointsSeen.get(state.current.epoch);
    if (!pair) return;
    const [oldSet, newSet] = pair.map((c) => c.members.map((x) => x.address));
    const rank = (m: Member): number => (m.proc?.keeper ? stateRank(m.proc.keeper.state) : -1);
    const common = this.rng.shuffle(this.members.filter((m) => oldSet!.includes(m.id) && newSet!.includes(m.id))).sort((x, y) => rank(x) - rank(y));
    const oldOnly = this.members.filter((m) => oldSet!.includes(m.id) && !newSet!.includes(m.id)).sort((x, y) => Number(y === at) - Number(x === at));
    const oldSide = [...oldOnly, ...common].slice(0, Math.floor(oldSet!.length / 2) + 1);
    const rest = this.members.filter((m) => !oldSide.includes(m));
    // Most often when the other side holds a majority of the new set (two majorities apart).
    const apart = rest.filter((m) => newSet!.includes(m.id)).length >= Math.floor(newSet!.length / 2) + 1;
    if (!this.rng.chance(apart ? 0.7 : 0.15)) return;
    const durationMs = this.rng.int(100, 3_000);
    this.counts.faults += 1;
    this.faults.push({ atMs: this.world.now, kind: 'old-new-split', member: oldSide[0]!.id, peers: rest.map((m) => m.id), durationMs });
    for (const m of this.members) m.busyUntil = Math.max(m.busyUntil, this.world.now + durationMs);
    this.partition(oldSide, rest, durationMs, true);
  }

  /** Processes that believe they are members (and are not stopping). */
  private memberProcs(): Proc[] {
    return this.members.flatMap((m) => (m.proc && !m.proc.stopping && m.proc.keeper?.isMember ? [m.proc] : []));
  }

  private injectChange(): void {
    if (this.healed) return;
    this.world.queue.after(this.rng.int(1, this.o.reconfigureEveryMs * 2), () => this.injectChange());
    const proposers = this.memberProcs();
    if (proposers.length === 0) return;
    const count = proposers.length > 1 && this.rng.chance(0.2) ? 2 : 1; // two operators at once, now and then
    const order = this.rng.shuffle(proposers);
    for (const p of order.slice(0, count)) {
      const s = p.keeper!.state;
      const current = (s.kind === 'joint' ? s.next : s.current).members.map((x) => x.address);
      const outside = this.ids.filter((id) => !current.includes(id));
      // Between 3 and 5 members: the fault mix keeps a minority of 3 faulty (one disk fault at a time).
      // (A remove only from 5: two asked at once, each applied to whatever set is current then, leave 3.)
      // A replace in a set of 3 is the one change whose two majorities can miss each other
      // ({a,b,c} -> {a,b,d}: {a,c} and {b,d}), so sets of 3 are not only grown.
      const grow = current.length < 5 && outside.length > 0 && this.rng.chance(current.length <= 3 ? 0.6 : 0.5);
      const request: ChangeRequest = grow
        ? { action: 'add', address: this.rng.pick(outside) }
        : outside.length > 0 && (current.length < 5 || this.rng.chance(0.3))
          ? { action: 'replace', member: this.rng.pick(current), address: this.rng.pick(outside) }
          : { action: 'remove', member: this.rng.pick(current) };
      this.counts.changes += 1;
      this.faults.push({ atMs: this.world.now, kind: `member ${request.action}`, member: p.member, peers: [request.action === 'remove' ? request.member : request.address], durationMs: 0 });
      p.scope.enter(() => {
        p.changes!.change(request).then((outcome) => {
          this.counts.changesDone += 1;
          this.counts.maxEpoch = Math.max(this.counts.maxEpoch, outcome.epoch);
        }, () => {});
      });
    }
  }

  /** The process dies (SIGKILL): its clients lose their connection, its queued updates are lost. */
  private kill(m: Member): void {
    const proc = m.proc;
    if (!proc) return;
    killSimNode(this.net, proc);
    m.proc = undefined;
    for (const op of [...proc.ops]) this.complete(op, op.f === 'read' ? 'fail' : 'info');
  }

  private crashNow(m: Member, restartAfterMs: number): void {
    this.kill(m);
    this.restartLater(m, restartAfterMs, false);
  }

  private restartLater(m: Member, afterMs: number, wipe: boolean): void {
    const token = ++m.restartToken;
    m.busyUntil = Math.max(m.busyUntil, this.world.now + afterMs);
    this.world.queue.after(afterMs, () => {
      if (m.restartToken !== token || m.proc) return;
      this.restart(m, wipe);
    });
  }

  private restart(m: Member, wipe: boolean): void {
    if (wipe || m.wipePending) {
      m.wipePending = false;
      this.counts.wipes += 1;
      m.wipes += 1;
      m.disk = new MemoryDisk(m.wipes);
    }
    this.start(m);
  }

  // ---- clients -------------------------------------------------------------------------

  private clientStep(client: number, done: number): void {
    if (!this.quiet && done === this.o.opsPerClient) {
      // The fault phase is over for this client; the quiet phase starts when it is over for all.
      if (--this.clientsInFaultPhase === 0) this.heal();
      const resume = (): void => {
        if (this.quiet) this.clientStep(client, done);
        else this.world.queue.after(50, resume);
      };
      resume();
      return;
    }
    if (done === this.o.opsPerClient + this.o.quietOpsPerClient) {
      if (--this.clientsLeft === 0) this.awaitRecovery();
      return;
    }
    // With member changes, clients go through nodes that are members as far as they know (a
    // client lists the members' endpoints); in the fault phase, now and then any node at all.
    const memberIds = this.o.reconfigureEveryMs > 0 ? this.memberProcs().map((p) => p.member) : [];
    const choices = memberIds.length > 0 && (this.quiet || this.rng.chance(0.9)) ? this.members.filter((x) => memberIds.includes(x.id)) : this.members;
    const m = this.rng.pick(choices);
    // After the faults, clients keep to the lower half of the addresses: the upper half reaches
    // every replica only by catch-up (docs/catch-up.md), which the convergence check needs.
    const drawn = this.rng.int(0, this.o.addrs - 1);
    const addr = this.quiet ? drawn % Math.max(1, Math.floor(this.o.addrs / 2)) : drawn;
    const { f, value, expect, delta } = this.drawOp(client, addr, done);
    this.counts.ops += 1;
    const next = (): void => this.world.queue.after(this.rng.int(0, 10), () => this.clientStep(client, done + 1));
    const op: ClientOp = { client, f, addr, invokedMs: this.world.now, quiet: this.quiet, node: m.id, done: false, next };
    this.history.push({
      type: 'invoke', process: client, f, addr, ...(f === 'write' || f === 'cas' ? { value } : {}), ...(f === 'cas' ? { expect } : {}),
      ...(f === 'add' ? { delta } : {}), time: this.world.now, node: m.id,
    });
    const proc = m.proc;
    if (!proc) {
      this.complete(op, 'fail'); // connection refused: the operation certainly did not happen
      return;
    }
    proc.ops.add(op);
    const finish = (type: 'ok' | 'fail' | 'info', v?: string | null, refused?: { current: string | null }): void => {
      proc.ops.delete(op);
      if (v !== undefined) this.seen(client).set(addr, v);
      if (refused) this.seen(client).set(addr, refused.current);
      this.complete(op, type, v, refused);
    };
    proc.scope.enter(() => {
      const p: Promise<string | null | undefined> = f === 'write' ? proc.node.write(addr, value).then(() => value)
        : f === 'read' ? proc.node.read(addr).then((r) => r.value)
          : f === 'cas' ? proc.node.rmw(addr, { kind: 'cas', expect: { value: expect }, value }).then(() => value)
            : proc.node.rmw(addr, { kind: 'add', delta }).then((r) => r.value);
      // A write that failed after its update went out, or an rmw after its accept, may still take
      // effect: the node says outcome_unknown, and the checker treats it as unknown. A refused
      // change (409) read the register: the checker holds its `current` to linearizability. Every
      // other failure is definite, and the checker holds the node to it.
      p.then((v) => finish('ok', f === 'read' || f === 'add' ? v : undefined), (err: { code?: string; current?: { value: string | null } }) => {
        if (proc.keeper !== undefined && !proc.keeper.isMember) op.leftMemberSet = true;
        if (err instanceof ChangeRefusedError) return finish('ok', undefined, { current: err.current.value });
        finish(f !== 'read' && !isDefiniteFailure(err.code) ? 'info' : 'fail');
      });
    });
  }

  /** What each client last saw at each address (its compare-and-sets expect it). */
  private readonly seenByClient = new Map<number, Map<Addr, string | null>>();

  private seen(client: number): Map<Addr, string | null> {
    let m = this.seenByClient.get(client);
    if (!m) this.seenByClient.set(client, (m = new Map()));
    return m;
  }

  /**
   * The next operation of a client. Even addresses are registers (reads, writes, and
   * compare-and-sets that expect what the client last saw there, or never-written), odd ones
   * counters (reads, adds, now and then a write or compare-and-set of a number), so compare-and-set
   * succeeds and fails, and adds count and are refused.
   */
  private drawOp(client: number, addr: Addr, done: number): { f: ClientOp['f']; value: string; expect: string | null; delta: number } {
    const r = this.rng.next();
    const expect = this.seen(client).get(addr) ?? null;
    if (addr % 2 === 0) {
      const value = `c${client}-${done}`;
      return { f: r < 0.4 ? 'read' : r < 0.75 ? 'write' : 'cas', value, expect, delta: 0 };
    }
    const value = String(client * 1000 + done);
    const f = r < 0.35 ? 'read' : r < 0.8 ? 'add' : r < 0.9 ? 'write' : 'cas';
    return { f, value, expect, delta: this.rng.int(-2, 5) };
  }

  /** Records the outcome of `op` once (its node may have died first), then the client goes on. */
  private complete(op: ClientOp, type: 'ok' | 'fail' | 'info', value?: string | null, refused?: { current: string | null }): void {
    if (op.done) return;
    op.done = true;
    if (type !== 'ok') {
      const w = this.mustServe.find((x) => x.addr === op.addr && x.members.includes(op.node) && op.invokedMs >= x.fromMs && op.invokedMs + this.o.opDeadlineMs <= x.untilMs);
      if (w) this.problems.push(`availability: client ${op.client}'s ${op.f} of ${op.addr} through ${op.node}, invoked at ${op.invokedMs} ms while one member was stopped and another's value of ${op.addr} was damaged, ended ${type} at ${this.world.now} ms`);
    }
    this.counts[type] += 1;
    this.history.push({
      type, process: op.client, f: op.f, addr: op.addr, ...(value !== undefined && (op.f === 'read' || op.f === 'add') ? { value } : {}),
      ...(refused ? { refused: true, current: refused.current } : {}), time: this.world.now,
    });
    if (op.quiet && !this.counts.stuck) {
      const tookMs = this.world.now - op.invokedMs;
      if (type !== 'ok' && op.leftMemberSet) this.counts.leftMemberSet += 1;
      else if (type !== 'ok') this.problems.push(`liveness: client ${op.client}'s ${op.f} of ${op.addr} invoked at ${op.invokedMs} ms, after the faults stopped, ended ${type}`);
      else if (tookMs > this.o.livenessBoundMs) this.problems.push(`liveness: client ${op.client}'s ${op.f} of ${op.addr} took ${tookMs} ms after the faults stopped (bound ${this.o.livenessBoundMs} ms)`);
    }
    op.next();
  }

  // ---- the end: faults stop, then everything must work ---------------------------------

  /** Ends every fault: processes restarted, partitions healed, disks and clocks well, few drops. */
  private heal(): void {
    this.healed = true;
    this.healedAtMs = this.world.now;
    this.net.healAll();
    this.net.conditions.dropRate = this.o.quietDropRate;
    for (const m of this.members) {
      m.slowDiskUntil = 0;
      m.diskFullUntil = 0;
      m.refusingUntil = 0;
      m.busyUntil = 0;
      if (m.proc) {
        m.proc.scope.stalledUntil = Math.min(m.proc.scope.stalledUntil, this.world.now);
        m.proc.crashAfterCommit = false;
      } else {
        m.restartToken += 1;
        this.restart(m, false);
      }
    }
    this.openQuietPhase();
  }

  /**
   * Clients' quiet phase starts once a majority of members serves as replicas again: members
   * restarted with a wiped or new data dir wait out the recovery fence first (one operation
   * deadline, core/recovery.ts), and while a majority does so no quorum can exist. That wait
   * is bounded too: a majority must serve within the recovery bound.
   */
  private openQuietPhase(): void {
    const serves = (m: Member): boolean => m.proc !== undefined && !m.proc.node.replica.recovering;
    const serving = this.members.filter(serves).length;
    const late = this.world.now - this.healedAtMs >= this.o.recoveryBoundMs;
    // With member changes: a majority of every member set the newest state counts.
    const newest = this.o.reconfigureEveryMs > 0 ? this.initialState() : undefined;
    const sets = newest ? (newest.kind === 'joint' ? [newest.current, newest.next] : [newest.current]).map((c) => c.members.map((x) => x.address)) : [this.ids];
    const enough = sets.every((ids) => this.members.filter((m) => ids.includes(m.id) && serves(m)).length >= Math.floor(ids.length / 2) + 1);
    if (enough || late) {
      if (late && this.stormed) this.checkSaysWhy();
      else if (late) this.problems.push(`liveness: only ${serving} of ${this.o.nodes} members serve ${this.world.now - this.healedAtMs} ms after the faults stopped`);
      this.quiet = true;
      return;
    }
    this.world.queue.after(50, () => this.openQuietPhase());
  }

  /**
   * After a wipe storm the cluster may be stuck beyond its fault budget: then every member still
   * recovering must say so (docs/recovery.md), and no liveness is asked of the rest of the run.
   */
  private checkSaysWhy(): void {
    const recovering = this.members.filter((m) => m.proc?.node.replica.recovering === true);
    const silent = recovering.filter((m) => m.proc!.node.recovery?.beyondBudget !== true);
    if (recovering.length === 0 || silent.length > 0) {
      const why = recovering.length === 0 ? 'no member is recovering' : `${silent.map((m) => m.id).join(', ')} still recovering without saying it is beyond the budget`;
      this.problems.push(`liveness: after a wipe storm the cluster does not serve ${this.world.now - this.healedAtMs} ms after the faults stopped, and ${why}`);
      return;
    }
    this.counts.stuck = true;
  }

  /** After the last operation: every node must finish recovery and repair within the bound. */
  private awaitRecovery(): void {
    const deadline = this.healedAtMs + this.o.recoveryBoundMs;
    const check = (): void => {
      if (this.counts.stuck) {
        this.finished = true; // stuck beyond the budget, and said so: nothing more to wait for
        return;
      }
      const behind = this.members.filter((m) => !m.proc || m.proc.node.replica.recovering || m.disk.damaged.size > 0);
      if (behind.length === 0) {
        this.awaitConvergence();
        return;
      }
      if (this.world.now >= deadline) {
        for (const m of behind) {
          const why = !m.proc ? 'is not running' : m.proc.node.replica.recovering ? 'is still recovering' : `still has ${m.disk.damaged.size} damaged registers`;
          this.problems.push(`liveness: ${m.id} ${why} ${this.world.now - this.healedAtMs} ms after the faults stopped`);
        }
        this.finished = true;
        return;
      }
      this.world.queue.after(100, check);
    };
    check();
  }

  /**
   * Then every replica of the member set must hold the same tag for every address within
   * convergeBoundMs (docs/catch-up.md): the addresses clients left alone since the faults
   * stopped reach the replicas that missed them only by catch-up.
   */
  private awaitConvergence(): void {
    const recoveredMs = this.world.now;
    const deadline = recoveredMs + this.o.convergeBoundMs;
    const check = (): void => {
      const twoValues = this.oneValuePerTag();
      if (twoValues !== undefined) {
        this.problems.push(`safety: ${twoValues}`);
        this.finished = true;
        return;
      }
      const differing = this.divergence();
      if (differing === undefined) {
        this.counts.convergedMs = this.world.now - recoveredMs;
        this.finished = true;
        return;
      }
      if (this.world.now >= deadline) {
        this.problems.push(`convergence: ${differing} ${this.o.convergeBoundMs} ms after every member recovered`);
        this.finished = true;
        return;
      }
      this.world.queue.after(100, check);
    };
    check();
  }

  /**
   * ABD's invariant, checked on what every disk holds: one tag never carries two values (a
   * reused tag shows here once catch-up has spread both copies, even if no read saw both).
   */
  private oneValuePerTag(): string | undefined {
    const seen = new Map<string, { member: string; value: string | null }>();
    for (const m of this.members) {
      for (const [a, v] of m.disk.registers) {
        if (m.disk.damaged.has(a)) continue;
        const key = `${a} ${formatTag(v.tag)}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, { member: m.id, value: v.value });
        else if (first.value !== v.value) return `address ${a} holds tag ${formatTag(v.tag)} with two values: ${JSON.stringify(first.value)} on ${first.member}, ${JSON.stringify(v.value)} on ${m.id}`;
      }
    }
    return undefined;
  }

  /** The first address on which two replicas of the member set hold different tags, described; undefined when all agree. */
  private divergence(): string | undefined {
    const newest = this.o.reconfigureEveryMs > 0 ? this.initialState() : undefined;
    const ids = newest ? participantAddresses(newest) : this.ids;
    const replicas = this.members.filter((m) => ids.includes(m.id));
    const addrs = new Set(replicas.flatMap((m) => [...m.disk.registers.keys()]));
    for (const a of [...addrs].sort((x, y) => x - y)) {
      const tags = replicas.map((m) => m.disk.stored(a).tag);
      if (tags.some((t) => compareTags(t, tags[0]!) !== 0)) {
        const lags = replicas.map((m) => `${m.id}: ${(m.proc?.node.catchup.lag() ?? []).map((l) => `${l.peer} ${l.mode} ${l.changes} changes, answered ${l.lastAnswerAgeMs} ms ago${m.proc?.node.catchup.lastError(l.peer) ? ` (${m.proc.node.catchup.lastError(l.peer)})` : ''}`).join(', ')}`);
        return `address ${a} differs: ${replicas.map((m, i) => `${m.id} ${formatTag(tags[i]!)}`).join(', ')}; catch-up ${lags.join('; ')}`;
      }
    }
    return undefined;
  }

  // ---- bounded queues ------------------------------------------------------------------

  /**
   * Every 50 virtual ms: no queue of a node grows past what its clients can have asked.
   * Each client has one operation outstanding and each operation one phase at a time, so a
   * channel holds at most one live request per operation in flight there (exactly). A call
   * already sent stays on its link after its op is answered (sent lines are not aborted)
   * until answered or past the request deadline, and each served request is one store batch:
   * both are bounded by the operations of one request deadline, not by how long a partition
   * lasts. The limits leave twice the largest seen in 10,000 seeds; a queue that grew with a
   * 30-second partition would pass them many times over.
   */
  private checkBounds(): void {
    if (this.finished) return;
    const linkCallsMax = 8 * this.o.clients + 4 * this.o.nodes + 32;
    // A store also queues an rmw's prepares, accepts and commits (issue 31): a stalled disk with
    // contended rmws sat at 93-102 batches for a while (seeds 7233 on 3 nodes, 1406 and 8924 on 5),
    // a plateau, not a climb; the bound is there to catch a climb.
    const storeQueuedMax = linkCallsMax + 4 * this.o.clients;
    for (const m of this.members) {
      const p = m.proc;
      if (!p) continue;
      const inFlight = p.node.runtime.inFlight;
      if (inFlight > this.o.clients) this.problems.push(`bounded: ${m.id} has ${inFlight} operations in flight, more than the ${this.o.clients} clients`);
      for (const ch of p.node.channels) {
        this.counts.maxChannelOutstanding = Math.max(this.counts.maxChannelOutstanding, ch.outstanding);
        if (ch.outstanding > inFlight) this.problems.push(`bounded: ${m.id}'s channel to ${ch.member} holds ${ch.outstanding} requests for ${inFlight} operations in flight`);
      }
      for (const l of p.links) {
        this.counts.maxLinkCalls = Math.max(this.counts.maxLinkCalls, l.outstanding);
        if (l.outstanding > linkCallsMax) this.problems.push(`bounded: ${m.id}'s link to ${l.member} has ${l.outstanding} calls in flight (limit ${linkCallsMax})`);
      }
      this.counts.maxStoreQueued = Math.max(this.counts.maxStoreQueued, p.store.queued);
      if (p.store.queued > storeQueuedMax) this.problems.push(`bounded: ${m.id}'s store has ${p.store.queued} batches uncommitted (limit ${storeQueuedMax})`);
    }
    if (this.problems.length > 20) {
      this.finished = true;
      return;
    }
    this.world.queue.after(50, () => this.checkBounds());
  }

  // ---- faults --------------------------------------------------------------------------

  private injectFault(): void {
    if (this.healed) return;
    this.world.queue.after(this.rng.int(1, this.o.faultEveryMs * 2), () => this.injectFault());
    const kind = this.rng.pick(this.o.faults.filter((f) => !TERMINAL.has(f)));
    const now = this.world.now;
    const faulty = (m: Member): boolean => !m.proc || m.proc.stopping || m.busyUntil > now || m.proc.node.replica.recovering;
    const heavyBudget = this.chaos ? this.o.nodes : this.o.maxFaulty;
    let candidates = this.members.filter((m) => m.proc && !m.proc.stopping);
    if (HEAVY.has(kind)) {
      const down = this.members.filter(faulty).length;
      // A crash may hit a recovering node (mid-recovery), which is faulty already.
      candidates = candidates.filter((m) => (kind === 'crash' && m.proc!.node.replica.recovering) || (!faulty(m) && down < heavyBudget));
    }
    // Disk faults one at a time: a wipe or a rotten register while another disk is being
    // repaired or recovered (or was never initialised) is a second lost copy, more than a
    // majority quorum promises to survive (core/recovery.ts). Then the two wait for each
    // other, safely: found by seed 25 before this rule, see the README's correctness section.
    // (Nor while an address must stay available through a damaged value and a stopped member: a
    // second disk fault there would be the double failure the availability check does not ask about.)
    // (Nor once a wipe storm began: its first wipe comes up to a second after its start, and a
    // register rotted meanwhile leaves the wiped members waiting for a source that cannot give
    // it and that source's repair waiting for them: 5-node seed 427 of the rmw workload.)
    const diskBusy = this.members.some((m) => m.disk.damaged.size > 0 || m.wipePending || m.rotPending || m.disk.meta.get('initialized') !== '1')
      || this.mustServe.some((w) => now < w.untilMs) || this.stormed;
    if ((kind === 'wipe' || kind === 'wipe-mid-write' || kind === 'rot' || kind === 'rot-mid-write' || kind === 'rot-value' || kind === 'rot-value-stop') && diskBusy) return;
    if (candidates.length === 0) return;
    const m = this.rng.pick(candidates);
    const proc = m.proc!;
    const long = (kind === 'isolate' || kind === 'split' || kind === 'one-way') && this.rng.chance(this.o.longPartitionRate);
    const durationMs = long ? this.rng.int(10_000, 30_000) : this.rng.int(20, 2_500);
    const record = (peers?: MemberId[]): void => {
      this.counts.faults += 1;
      this.faults.push({ atMs: now, kind, member: m.id, ...(peers ? { peers } : {}), durationMs });
    };
    const others = this.members.filter((x) => x !== m);
    switch (kind) {
      case 'crash':
        record();
        this.crashNow(m, durationMs);
        return;
      case 'crash-after-commit':
        record();
        proc.crashAfterCommit = true;
        m.busyUntil = now + durationMs;
        return;
      case 'wipe':
        record();
        m.wipePending = true;
        this.kill(m);
        this.restartLater(m, durationMs, true);
        return;
      case 'wipe-mid-write': {
        // Seed 1704's shape, on purpose: the member is wiped and back within moments while
        // the others commit slowly and cannot reach each other, so writes it acknowledged
        // are still in flight, on no other disk yet, when it starts recovering.
        record(others.map((x) => x.id));
        m.wipePending = true;
        m.busyUntil = now + Math.max(durationMs, 1_000);
        this.midWrite(others, Math.max(durationMs, 1_000), () => {
          if (m.proc !== proc || this.healed) {
            m.wipePending = false; // crashed meanwhile, or the faults stopped: no wipe
            return;
          }
          this.kill(m);
          this.restartLater(m, this.rng.int(1, 50), true);
        });
        return;
      }
      case 'rot-mid-write': {
        // The same shape for a register that rots: the register this member committed last
        // (most likely one a write in flight just updated) loses its tag while the others
        // commit slowly and cannot reach each other.
        record(others.map((x) => x.id));
        m.rotPending = true;
        this.midWrite(others, Math.max(durationMs, 2_000), () => {
          m.rotPending = false;
          if (m.proc !== proc || this.healed) return;
          if (m.disk.lastWritten !== undefined) m.disk.rot(m.disk.lastWritten);
        });
        return;
      }
      case 'stop': {
        record();
        proc.stopping = true;
        m.busyUntil = now + durationMs;
        proc.scope.enter(() => {
          void proc.node.stop(Math.min(this.o.opDeadlineMs, limits.drainMsMax)).then(() => {
            if (m.proc !== proc) return;
            this.kill(m);
            if (this.healed) this.restart(m, false);
            else this.restartLater(m, durationMs, false);
          });
        });
        return;
      }
      case 'isolate':
      case 'split': {
        const group = kind === 'split'
          ? [m, ...others.filter((x) => !faulty(x) && this.rng.chance(0.5))].slice(0, Math.max(1, heavyBudget))
          : [m];
        const rest = this.members.filter((x) => !group.includes(x));
        record(rest.map((x) => x.id));
        for (const g of group) g.busyUntil = now + durationMs;
        this.partition(group, rest, durationMs, true);
        return;
      }
      case 'one-way': {
        const peer = this.rng.pick(others);
        record([peer.id]);
        m.busyUntil = now + durationMs;
        // Either this node's messages to the peer are lost, or the peer's to this node.
        if (this.rng.chance(0.5)) this.partition([m], [peer], durationMs, false);
        else this.partition([peer], [m], durationMs, false);
        return;
      }
      case 'stall':
        record();
        m.busyUntil = now + durationMs;
        proc.scope.stalledUntil = now + durationMs;
        return;
      case 'slow-disk':
        record();
        m.slowDiskUntil = now + durationMs;
        return;
      case 'disk-full':
        record();
        m.busyUntil = now + durationMs;
        m.diskFullUntil = now + durationMs;
        return;
      case 'rot': {
        const stored = [...m.disk.registers.keys()];
        if (stored.length === 0) return;
        record();
        m.disk.rot(this.rng.pick(stored));
        return;
      }
      case 'reset':
        record();
        this.net.reset(m.id);
        return;
      case 'refuse':
        record();
        m.busyUntil = now + durationMs;
        m.refusingUntil = now + durationMs;
        return;
      case 'wall-jump':
        record();
        proc.scope.wallOffsetMs += this.rng.int(-3_600_000, 3_600_000);
        return;
      case 'rot-value': {
        // Only the value's bytes: the tag fields still pass their checksum (docs/storage-integrity.md).
        const stored = [...m.disk.registers].filter(([, v]) => v.value !== null).map(([a]) => a);
        if (stored.length === 0) return;
        const addr = this.rng.pick(stored);
        if (!m.disk.rotValue(addr)) return;
        record();
        return;
      }
      case 'rot-value-stop': {
        // Issue 30's shape: one member's value of an address rots, another member is stopped. The
        // address must stay readable and writable through the others, as every other address is:
        // that needs a quorum of the members left, the damaged one included, so at most N-Q-1
        // other members may be faulty already.
        const quorum = Math.floor(this.o.nodes / 2) + 1;
        // A member armed to crash at its next commit is as good as down.
        const unfit = (x: Member): boolean => faulty(x) || x.proc?.crashAfterCommit === true;
        if (this.chaos || this.stormed || unfit(m) || this.members.filter(unfit).length > this.o.nodes - quorum - 1) return;
        const stoppable = others.filter((x) => !unfit(x));
        if (stoppable.length === 0) return;
        const stopped = this.rng.pick(stoppable);
        const healthy = this.members.filter((x) => x !== stopped && !unfit(x));
        const newest = (a: Addr): Tag => this.members.map((x) => x.disk.stored(a).tag).reduce((p, q) => (compareTags(p, q) >= 0 ? p : q));
        // An address whose newest tag m holds with a value, and another healthy member holds whole too.
        const fit = [...m.disk.registers].filter(([a, v]) => v.value !== null && compareTags(v.tag, newest(a)) === 0
          && healthy.some((x) => x !== m && !x.disk.damaged.has(a) && compareTags(x.disk.stored(a).tag, v.tag) === 0)).map(([a]) => a);
        if (fit.length === 0) return;
        const addr = this.rng.pick(fit);
        if (!m.disk.rotValue(addr)) return;
        const stopMs = this.rng.int(this.o.opDeadlineMs, this.o.opDeadlineMs * 3);
        record([stopped.id]);
        stopped.busyUntil = now + stopMs;
        m.busyUntil = Math.max(m.busyUntil, now + stopMs);
        if (stopped.proc) stopped.proc.scope.stalledUntil = now + stopMs;
        // With member changes the quorums move under the operations: safety is checked, availability is not.
        if (this.o.reconfigureEveryMs === 0) this.mustServe.push({ addr, members: healthy.map((x) => x.id), fromMs: now, untilMs: now + stopMs });
        return;
      }
      case 'wipe-storm':
        return; // scheduled once (scheduleStorm), never drawn
    }
  }

  /**
   * A wipe storm (docs/recovery.md): wipes faster than recovery, past the budget. Once per seed,
   * early in the fault phase, in every seed when `faults` is the storm alone, otherwise in one
   * seed in STORM_EVERY_SEEDS (chosen by the seed number, and timed by a generator of its own,
   * so the other seeds' runs are what they were).
   */
  private scheduleStorm(): void {
    if (!this.o.faults.includes('wipe-storm')) return;
    const alone = this.o.faults.every((f) => TERMINAL.has(f));
    if (!alone && this.o.seed % STORM_EVERY_SEEDS !== 7) return;
    const own = new Random(this.o.seed * 7919 + 104_729);
    this.world.queue.after(own.int(100, 1_500), () => this.storm(own));
  }

  /**
   * A majority or more of the members is cut off from the rest while clients write (so writes are
   * acknowledged by them alone), then wiped one after another, each restarted within moments and
   * the next wiped 100 ms to 1.5 s later, far sooner than a recovery's fence lets it finish. Every
   * copy of some acknowledged writes is gone: the cluster must stay unavailable and say why, never
   * answer as if they never happened. The next member is wiped only once the last one has heard
   * that the cluster served (a page of a member with data): wiping every holder of the evidence
   * in the same instant is the one shape no design can tell from a new cluster (docs/recovery.md).
   */
  private storm(own: Random): void {
    if (this.healed) return;
    // Like every disk fault it starts on disks that are whole (a damaged register or a recovery
    // under way would make it the seed-25 shape of two faults waiting for each other instead).
    const diskBusy = this.members.some((m) => m.disk.damaged.size > 0 || m.wipePending || m.rotPending || m.disk.meta.get('initialized') !== '1');
    if (diskBusy) {
      this.world.queue.after(100, () => this.storm(own));
      return;
    }
    // A majority or more of the member set (with member changes, of the members as the newest
    // state has them; the others are left alone).
    const newest = this.o.reconfigureEveryMs > 0 ? participantAddresses(this.initialState()) : this.ids;
    const voters = this.members.filter((m) => newest.includes(m.id));
    const quorum = Math.floor(voters.length / 2) + 1;
    const group = own.shuffle(voters).slice(0, own.int(quorum, voters.length));
    const rest = this.members.filter((m) => !group.includes(m));
    const cutMs = 3_000;
    this.stormed = true;
    this.mustServe.length = 0; // past the budget, nothing must stay available

    this.counts.faults += 1;
    this.faults.push({ atMs: this.world.now, kind: 'wipe-storm', member: group[0]!.id, peers: group.slice(1).map((m) => m.id), durationMs: cutMs });
    for (const m of this.members) m.busyUntil = Math.max(m.busyUntil, this.world.now + cutMs);
    if (rest.length > 0) this.partition(group, rest, cutMs, true);
    const wipe = (i: number): void => {
      if (this.healed) return; // the faults stopped first: the storm ends here
      const m = group[i]!;
      m.wipePending = true;
      this.kill(m);
      this.restartLater(m, own.int(1, 50), true);
      if (i + 1 < group.length) this.world.queue.after(own.int(100, 1_500), () => next(i + 1, m));
    };
    const next = (i: number, last: Member): void => {
      if (this.healed) return;
      const anyData = this.members.some((x) => x.disk.registers.size > 0);
      // Wait until the member wiped last has heard that the cluster served (or is not recovering at all).
      if (anyData && last.proc?.node.replica.recovering !== false && last.proc?.node.recovery?.served !== true) {
        this.world.queue.after(50, () => next(i, last));
        return;
      }
      wipe(i);
    };
    this.world.queue.after(own.int(200, 1_000), () => wipe(0));
  }

  /**
   * The stage of the *-mid-write faults: `others` commit slowly and cannot reach each other for
   * `slowMs`, so writes wait on the one member left out; `then` runs 50-400 ms into it.
   */
  private midWrite(others: Member[], slowMs: number, then: () => void): void {
    for (const x of others) x.slowDiskUntil = this.world.now + slowMs;
    this.partition(others, others, slowMs, false);
    this.world.queue.after(this.rng.int(50, 400), then);
  }

  /** Cuts `from` -> `to` (and back, if `both`) for `durationMs`. */
  private partition(from: Member[], to: Member[], durationMs: number, both: boolean): void {
    const pairs: [MemberId, MemberId][] = [];
    for (const a of from) for (const b of to) {
      if (a === b) continue;
      pairs.push([a.id, b.id]);
      if (both) pairs.push([b.id, a.id]);
    }
    for (const [a, b] of pairs) this.net.cut(a, b);
    this.world.queue.after(durationMs, () => {
      for (const [a, b] of pairs) this.net.heal(a, b);
    });
  }
}
