import type { Addr, MemberId, ReadResult, Versioned, WriteResult } from '../../src/core/types.js';
import { MemoryDisk } from '../../src/storage/memory-store.js';
import { SimNetwork, type Message } from './network.js';
import { Random } from './random.js';
import { startSimNode, type SimMutations, type SimProcess } from './sim-node.js';
import { World } from './world.js';

/** An operation started through a node; `outcome` is set once it resolved or failed. */
export interface OpHandle<R> {
  outcome: { ok: true; result: R } | { ok: false; code: string; message: string } | undefined;
}

/**
 * Real nodes on a network that moves only when a test says so: every message waits in
 * `net.held` until the test delivers or drops it. For scenarios that read better step by
 * step than as random runs (a write that reached one replica, a read that must write back).
 * Each node reaches its own replica without the network, as in production.
 */
export class HandCluster {
  readonly world = new World();
  readonly net: SimNetwork;
  readonly procs = new Map<MemberId, SimProcess>();
  private readonly disks = new Map<MemberId, MemoryDisk>();
  private readonly refusals = new Map<MemberId, string>();

  /** Members whose disk fails every commit (as when full). */
  readonly fullDisks = new Set<MemberId>();

  constructor(readonly members: readonly MemberId[], options: { opDeadlineMs?: number; mutations?: SimMutations } = {}) {
    this.net = new SimNetwork(this.world, new Random(1), {
      dropRate: 0, duplicateRate: 0, delayMinMs: 0, delayMaxMs: 0, longDelayRate: 0, longDelayMs: 0,
    }, { requestDeadlineMs: 60_000, pageItems: 100, registersDeadlineMs: 60_000 });
    this.net.manual = true;
    for (const m of members) {
      // An initialised cluster (as after its first start), so no recovery traffic.
      const disk = new MemoryDisk();
      disk.meta.set('initialized', '1');
      this.disks.set(m, disk);
      this.procs.set(m, startSimNode(this.net, m, disk, {
        // Heartbeats and repair rounds only run when a test advances time: none here.
        members, opDeadlineMs: options.opDeadlineMs ?? 60_000, heartbeatIntervalMs: 3_600_000, randomSeed: 1,
        refusing: () => this.refusals.get(m),
        ...(options.mutations ? { mutations: options.mutations } : {}),
        store: { commitFailure: () => (this.fullDisks.has(m) ? 'disk full (test)' : undefined) },
      }));
    }
  }

  write(via: MemberId, addr: Addr, value: string): OpHandle<WriteResult> {
    return this.track(this.proc(via).node.write(addr, value));
  }

  read(via: MemberId, addr: Addr): OpHandle<ReadResult> {
    return this.track(this.proc(via).node.read(addr));
  }

  /** Delivers held messages matching `filter` (and the answers they cause) until none matches. */
  deliver(filter: (m: Message) => boolean = () => true): Promise<void> {
    return this.net.deliver(filter);
  }

  drop(filter: (m: Message) => boolean = () => true): void {
    this.net.drop(filter);
  }

  /** From now on `member` refuses every peer request (as with another member set or cluster secret). */
  refuse(member: MemberId, reason: string): void {
    this.refusals.set(member, reason);
  }

  /** Lets `ms` of virtual time pass (deadlines fire), with the network still held. */
  async advance(ms: number): Promise<void> {
    await this.world.run({ endMs: this.world.now + ms });
  }

  /** What `member` has durably committed at `addr`. */
  stored(member: MemberId, addr: Addr): Versioned {
    return this.disks.get(member)!.stored(addr);
  }

  private proc(m: MemberId): SimProcess {
    const p = this.procs.get(m);
    if (!p) throw new Error(`no member ${m}`);
    return p;
  }

  private track<R>(p: Promise<R>): OpHandle<R> {
    const handle: OpHandle<R> = { outcome: undefined };
    p.then(
      (result) => (handle.outcome = { ok: true, result }),
      (err: { code?: string; message: string }) => (handle.outcome = { ok: false, code: err.code ?? 'error', message: err.message }),
    );
    return handle;
  }
}

/** Message filters for readable tests. */
export const to = (...members: MemberId[]) => (m: Message): boolean => members.includes(m.to) || (m.kind === 'answer' && members.includes(m.from));
/** Requests `member` sent, and the answers to them. */
export const from = (member: MemberId) => (m: Message): boolean => (m.kind === 'answer' ? m.to : m.from) === member;
export const requests = (kind: 'query' | 'update') => (m: Message): boolean => m.kind === kind || m.answers === kind;
export const both = (...filters: ((m: Message) => boolean)[]) => (m: Message): boolean => filters.every((f) => f(m));
