import type { HistoryEvent } from '../../src/check/history.js';
import { checkHistory, type Verdict } from '../../src/check/linearizability.js';
import { Coordinator, type Effect, type OpId, type Phase, type ProtocolMutations } from '../../src/core/coordinator.js';
import { majority } from '../../src/core/quorum.js';
import { Recovery, type RecoveryEffect, type RegisterPage } from '../../src/core/recovery.js';
import { shouldStore } from '../../src/core/replica.js';
import { INITIAL } from '../../src/core/tag.js';
import type { Addr, MemberId, RegisterItem, Versioned } from '../../src/core/types.js';
import { EventQueue } from './event-queue.js';
import { Random } from './random.js';

/**
 * Deterministic simulation of shmem's protocol core (TigerBeetle's VOPR idea, small):
 * the real pure Coordinator and Recovery modules on N simulated nodes, a seeded network that
 * drops, duplicates, delays and reorders messages, a replica model with the real storage
 * semantics (updates acknowledged only after commit; a crash loses what was not committed),
 * crashes, restarts, partitions and wiped data dirs, concurrent clients, and a virtual
 * clock. Every run's history goes through the linearizability checker. Same seed, same run.
 */

/** Broken variants, to prove the checker catches them (mutation tests). */
export interface SimMutations extends ProtocolMutations {
  /** Replicas acknowledge an update when it arrives, before it is committed. */
  readonly ackBeforePersist?: boolean;
  /** A wiped node answers at once as an empty replica, without recovery. */
  readonly wipeWithoutRecovery?: boolean;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  readonly opsPerClient: number;
  readonly addrs: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** One-way delay bounds (ticks = virtual ms); random delays reorder messages. */
  readonly delayMin: number;
  readonly delayMax: number;
  /** Largest commit (fsync) delay of a replica. */
  readonly commitDelayMax: number;
  /** Mean ticks between fault injections; 0 disables faults. */
  readonly faultEvery: number;
  /** Most nodes faulty at once (crashed, partitioned or recovering); default: a minority. */
  readonly maxFaulty: number;
  readonly opDeadline: number;
  readonly retryAfter: number;
  readonly mutations: SimMutations;
  /** Bound on events processed (a run that exceeds it is a bug). */
  readonly maxEvents: number;
}

export function defaultSimOptions(seed: number, overrides: Partial<SimOptions> = {}): SimOptions {
  const nodes = overrides.nodes ?? 3;
  return {
    seed, nodes, clients: 6, opsPerClient: 40, addrs: 3,
    dropRate: 0.05, duplicateRate: 0.03, delayMin: 1, delayMax: 12, commitDelayMax: 6,
    faultEvery: 80, maxFaulty: Math.floor((nodes - 1) / 2),
    opDeadline: 400, retryAfter: 25, mutations: {}, maxEvents: 2_000_000,
    ...overrides,
  };
}

export interface SimResult {
  readonly seed: number;
  readonly history: HistoryEvent[];
  readonly verdict: Verdict;
  readonly counts: { ops: number; ok: number; fail: number; info: number; faults: number; wipes: number; messages: number; events: number };
}

type Body =
  | { t: 'query'; opId: OpId; addr: Addr }
  | { t: 'update'; opId: OpId; item: RegisterItem }
  | { t: 'query-reply'; opId: OpId; stored: Versioned }
  | { t: 'update-ack'; opId: OpId }
  | { t: 'page-request' }
  | { t: 'page'; page: RegisterPage };

interface Message {
  readonly from: MemberId;
  readonly to: MemberId;
  /** Incarnation of the sender (requests) or of the addressee (replies): stale ones are dropped. */
  readonly inc: number;
  readonly body: Body;
}

interface PendingOp {
  readonly client: number;
  readonly f: 'read' | 'write';
  readonly addr: Addr;
}

class SimNode {
  alive = true;
  incarnation = 1;
  wipes = 0;
  coordinator: Coordinator | undefined;
  durable = new Map<Addr, Versioned>();
  initialized = true;
  pending: { item: RegisterItem; ack: Message | undefined }[] = [];
  commitScheduled = false;
  recovery: Recovery | undefined;
  partitionedUntil = -1;
  faulty = false;
  /** Outstanding requests of this incarnation's coordinator: key opId:phase -> members not yet answered. */
  outstanding = new Map<string, Set<MemberId>>();
  ops = new Map<OpId, PendingOp>();
  nextOpId = 1;

  constructor(readonly member: MemberId) {}

  /** Writer id: node id (new after a wipe) and incarnation, like the real node. */
  get writer(): string {
    return `${this.member}${this.wipes > 0 ? `w${this.wipes}` : ''}.${this.incarnation}`;
  }

  get recovering(): boolean {
    return !this.initialized;
  }
}

export function simulate(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly rng: Random;
  private readonly q = new EventQueue();
  private readonly nodes: SimNode[];
  private readonly members: MemberId[];
  private readonly quorum: number;
  private readonly history: HistoryEvent[] = [];
  private readonly counts = { ops: 0, ok: 0, fail: 0, info: 0, faults: 0, wipes: 0, messages: 0, events: 0 };
  private clientsLeft: number;

  constructor(private readonly o: SimOptions) {
    this.rng = new Random(o.seed);
    this.members = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
    this.quorum = majority(o.nodes);
    this.nodes = this.members.map((m) => new SimNode(m));
    for (const n of this.nodes) n.coordinator = this.newCoordinator(n);
    this.clientsLeft = o.clients;
  }

  run(): SimResult {
    for (let c = 0; c < this.o.clients; c++) this.q.after(this.rng.int(0, 5), () => this.clientStep(c, 0));
    if (this.o.faultEvery > 0) this.q.after(this.rng.int(1, this.o.faultEvery * 2), () => this.injectFault());
    while (this.q.step()) {
      if (++this.counts.events > this.o.maxEvents) throw new Error(`seed ${this.o.seed}: more than ${this.o.maxEvents} events`);
    }
    if (this.clientsLeft !== 0) throw new Error(`seed ${this.o.seed}: ${this.clientsLeft} clients never finished`);
    return { seed: this.o.seed, history: this.history, verdict: checkHistory(this.history, { budgetMs: 20_000 }), counts: this.counts };
  }

  private node(m: MemberId): SimNode {
    return this.nodes[Number(m.slice(1))]!;
  }

  private newCoordinator(n: SimNode): Coordinator {
    return new Coordinator({ self: n.member, writer: n.writer, members: this.members, quorum: this.quorum, mutations: this.o.mutations });
  }

  // ---- clients -------------------------------------------------------------------------

  private clientStep(client: number, done: number): void {
    if (done === this.o.opsPerClient) {
      this.clientsLeft -= 1;
      return;
    }
    const n = this.rng.pick(this.nodes);
    const addr = this.rng.int(0, this.o.addrs - 1);
    const f = this.rng.chance(0.5) ? 'write' : 'read';
    const value = `c${client}-${done}`;
    this.counts.ops += 1;
    this.history.push({ type: 'invoke', process: client, f, addr, ...(f === 'write' ? { value } : {}), time: this.q.now });
    const next = (): void => this.q.after(this.rng.int(0, 8), () => this.clientStep(client, done + 1));
    if (!n.alive) {
      // Connection refused: the operation certainly did not happen.
      this.complete(client, f, addr, 'fail');
      next();
      return;
    }
    const opId = n.nextOpId++;
    n.ops.set(opId, { client, f, addr });
    this.clientWaiters.set(`${n.member}:${n.incarnation}:${opId}`, next);
    const inc = n.incarnation;
    this.q.after(this.o.opDeadline, () => {
      if (n.alive && n.incarnation === inc) this.execute(n, n.coordinator!.onDeadline(opId));
    });
    this.execute(n, f === 'write' ? n.coordinator!.write(opId, addr, value) : n.coordinator!.read(opId, addr));
  }

  private readonly clientWaiters = new Map<string, () => void>();

  private complete(client: number, f: 'read' | 'write', addr: Addr, type: 'ok' | 'fail' | 'info', value?: string | null): void {
    this.counts[type] += 1;
    this.history.push({ type, process: client, f, addr, ...(value !== undefined ? { value } : {}), time: this.q.now });
  }

  private finishOp(n: SimNode, opId: OpId, outcome: 'ok' | 'fail' | 'info', value?: string | null): void {
    const op = n.ops.get(opId);
    if (!op) return;
    n.ops.delete(opId);
    this.complete(op.client, op.f, op.addr, outcome, value);
    const key = `${n.member}:${n.incarnation}:${opId}`;
    const next = this.clientWaiters.get(key);
    this.clientWaiters.delete(key);
    next?.();
  }

  // ---- coordinator runtime -------------------------------------------------------------

  private execute(n: SimNode, effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send-query':
        case 'send-update': {
          const phase: Phase = e.type === 'send-query' ? 'query' : 'update';
          const key = `${e.opId}:${phase}`;
          n.outstanding.set(key, new Set(e.to));
          const body: Body = e.type === 'send-query' ? { t: 'query', opId: e.opId, addr: e.addr } : { t: 'update', opId: e.opId, item: e.item };
          for (const to of e.to) this.sendWithRetry(n, key, to, body, 0);
          break;
        }
        case 'cancel':
          n.outstanding.delete(`${e.opId}:${e.phase}`);
          break;
        case 'resolve':
          if (e.result.kind === 'read') this.finishOp(n, e.opId, 'ok', e.result.value);
          else this.finishOp(n, e.opId, 'ok');
          break;
        case 'reject': {
          const op = n.ops.get(e.opId);
          // A failed write may still have reached some replicas: its outcome is unknown.
          this.finishOp(n, e.opId, op?.f === 'write' ? 'info' : 'fail');
          break;
        }
      }
    }
  }

  private sendWithRetry(n: SimNode, key: string, to: MemberId, body: Body, attempt: number): void {
    const inc = n.incarnation;
    const waiting = (): boolean => n.alive && n.incarnation === inc && (n.outstanding.get(key)?.has(to) ?? false);
    if (!waiting()) return;
    this.send({ from: n.member, to, inc, body });
    const backoff = Math.min(this.o.retryAfter * 2 ** attempt, this.o.retryAfter * 8);
    this.q.after(backoff + this.rng.int(0, this.o.retryAfter), () => {
      if (waiting()) this.sendWithRetry(n, key, to, body, attempt + 1);
    });
  }

  private answered(n: SimNode, key: string, from: MemberId): boolean {
    const set = n.outstanding.get(key);
    if (!set?.has(from)) return false;
    set.delete(from);
    return true;
  }

  // ---- network -------------------------------------------------------------------------

  private send(m: Message): void {
    this.counts.messages += 1;
    const self = m.from === m.to;
    const from = this.node(m.from);
    const to = this.node(m.to);
    const cut = !self && (from.partitionedUntil > this.q.now || to.partitionedUntil > this.q.now);
    if (cut || (!self && this.rng.chance(this.o.dropRate))) return;
    const copies = !self && this.rng.chance(this.o.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = self ? 0 : this.rng.int(this.o.delayMin, this.o.delayMax);
      this.q.after(delay, () => this.deliver(m));
    }
  }

  private deliver(m: Message): void {
    const n = this.node(m.to);
    if (!n.alive) return;
    const b = m.body;
    switch (b.t) {
      case 'query':
        if (n.recovering) return; // a recovering replica does not answer (503 in the real node)
        this.send({ from: n.member, to: m.from, inc: m.inc, body: { t: 'query-reply', opId: b.opId, stored: n.durable.get(b.addr) ?? INITIAL } });
        return;
      case 'update': {
        if (n.recovering) return;
        const ack: Message = { from: n.member, to: m.from, inc: m.inc, body: { t: 'update-ack', opId: b.opId } };
        if (this.o.mutations.ackBeforePersist) {
          this.send(ack);
          n.pending.push({ item: b.item, ack: undefined });
        } else {
          n.pending.push({ item: b.item, ack });
        }
        this.scheduleCommit(n);
        return;
      }
      case 'query-reply':
        if (m.inc !== n.incarnation || !this.answered(n, `${b.opId}:query`, m.from)) return;
        this.execute(n, n.coordinator!.onQueryReply(b.opId, m.from, b.stored));
        return;
      case 'update-ack':
        if (m.inc !== n.incarnation || !this.answered(n, `${b.opId}:update`, m.from)) return;
        this.execute(n, n.coordinator!.onUpdateAck(b.opId, m.from));
        return;
      case 'page-request': {
        const page: RegisterPage = n.recovering
          ? { initialized: false, items: [], next: null }
          : { initialized: true, items: [...n.durable].map(([addr, v]) => ({ addr, ...v })), next: null };
        this.send({ from: n.member, to: m.from, inc: m.inc, body: { t: 'page', page } });
        return;
      }
      case 'page':
        if (m.inc !== n.incarnation || !n.recovery || !this.answered(n, 'recovery', m.from)) return;
        this.executeRecovery(n, n.recovery.onPage(m.from, b.page));
        return;
    }
  }

  // ---- replica storage model -----------------------------------------------------------

  private scheduleCommit(n: SimNode): void {
    if (n.commitScheduled) return;
    n.commitScheduled = true;
    const inc = n.incarnation;
    this.q.after(this.rng.int(0, this.o.commitDelayMax), () => {
      if (!n.alive || n.incarnation !== inc) return;
      n.commitScheduled = false;
      const batch = n.pending;
      n.pending = [];
      for (const { item } of batch) this.store(n, item);
      for (const { ack } of batch) if (ack) this.send(ack);
    });
  }

  private store(n: SimNode, item: RegisterItem): void {
    if (shouldStore(n.durable.get(item.addr) ?? INITIAL, item)) n.durable.set(item.addr, { tag: item.tag, value: item.value });
  }

  // ---- recovery ------------------------------------------------------------------------

  private executeRecovery(n: SimNode, effects: readonly RecoveryEffect[]): void {
    for (const e of effects) {
      if (e.type === 'store') for (const item of e.items) this.store(n, item); // durable at once in the model
      else if (e.type === 'fetch') {
        n.outstanding.get('recovery')?.add(e.from);
        this.sendWithRetry(n, 'recovery', e.from, { t: 'page-request' }, 0);
      }
      else {
        n.outstanding.delete('recovery');
        n.recovery = undefined;
        n.initialized = true;
        n.faulty = false;
      }
    }
  }

  // ---- faults --------------------------------------------------------------------------

  private injectFault(): void {
    const busy = this.clientsLeft > 0;
    if (busy) this.q.after(this.rng.int(1, this.o.faultEvery * 2), () => this.injectFault());
    const faulty = this.nodes.filter((n) => n.faulty).length;
    if (!busy || faulty >= this.o.maxFaulty) return;
    const n = this.rng.pick(this.nodes.filter((x) => !x.faulty));
    const anyRecovering = this.nodes.some((x) => x.recovering);
    const kind = this.rng.pick(anyRecovering ? ['crash', 'partition'] : ['crash', 'crash', 'partition', 'wipe']);
    this.counts.faults += 1;
    n.faulty = true;
    const duration = this.rng.int(5, 250);
    if (kind === 'partition') {
      n.partitionedUntil = this.q.now + duration;
      this.q.after(duration, () => (n.faulty = n.recovering));
      return;
    }
    this.crash(n);
    this.q.after(duration, () => this.restart(n, kind === 'wipe'));
  }

  private crash(n: SimNode): void {
    n.alive = false;
    // Clients of this coordinator lose their connection: writes unknown, reads failed.
    for (const [opId, op] of [...n.ops]) this.finishOp(n, opId, op.f === 'write' ? 'info' : 'fail');
    n.coordinator = undefined;
    n.pending = []; // volatile: not committed, lost
    n.commitScheduled = false;
    n.outstanding.clear();
    n.recovery = undefined;
  }

  private restart(n: SimNode, wipe: boolean): void {
    if (wipe) {
      this.counts.wipes += 1;
      n.durable = new Map();
      n.wipes += 1; // a new node id: the writer id is new even though the incarnation keeps counting
      if (!this.o.mutations.wipeWithoutRecovery) n.initialized = false;
    }
    n.incarnation += 1;
    n.alive = true;
    n.nextOpId = 1;
    n.coordinator = this.newCoordinator(n);
    if (n.recovering) {
      n.recovery = new Recovery(n.member, this.members, this.quorum);
      n.outstanding.set('recovery', new Set());
      this.executeRecovery(n, n.recovery.start());
    } else {
      n.faulty = false;
    }
  }
}
