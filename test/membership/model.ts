import type { HistoryEvent } from '../../src/check/history.js';
import { checkHistory, type Verdict } from '../../src/check/linearizability.js';
import { Coordinator, type Effect, type Membership } from '../../src/core/coordinator.js';
import { shouldStore } from '../../src/core/replica.js';
import { INITIAL } from '../../src/core/tag.js';
import type { Addr, RegisterItem, Versioned } from '../../src/core/types.js';
import { compareStates, isParticipant, quorumOf, stateRank, type ConfigState, type Configuration } from '../../src/membership/configuration.js';
import { gateRequest, membershipOf } from '../../src/membership/gate.js';
import { NO_ACCEPTOR_STATE, onAccept, onPrepare, Proposer, type AcceptorState, type ProposerEffect } from '../../src/membership/paxos.js';
import { Transfer, type TransferEffect } from '../../src/membership/transfer.js';
import { Random } from '../sim/random.js';

/**
 * A model check of docs/membership.md before it is wired into the node: the real pure
 * Coordinator (joint quorums, reconfigure), Paxos proposer and acceptor, Transfer and replica
 * gate, run by seeded random message passing between in-memory members, with clients reading
 * and writing, member sets growing and shrinking, concurrent proposals, and crashes (durable
 * state survives). The history is checked for linearizability. Broken variants of the protocol
 * (the issue's mutations) must be caught.
 */

export interface ModelMutations {
  /** The new configuration counts as soon as it is chosen: no joint phase, no transfer. */
  readonly newConfigBeforeTransfer?: boolean;
  /** Operations in a transition count only the new set's quorum. */
  readonly onlyNewQuorumInTransition?: boolean;
  /** Proposers skip Paxos's prepare phase (two of them can both install epoch e+1). */
  readonly skipPrepare?: boolean;
  /** A member removed from the configuration still answers as a replica. */
  readonly retiredAnswers?: boolean;
  /** Answers given under an earlier state still count after the coordinator moved on (model seed 3451's bug). */
  readonly answersOutliveStates?: boolean;
}

/** The mutations by name, for `npm run model -- --mutation NAME` and the tests. */
export const MODEL_MUTATIONS: Readonly<Record<string, ModelMutations>> = {
  'new-config-before-transfer': { newConfigBeforeTransfer: true },
  'only-new-quorum-in-transition': { onlyNewQuorumInTransition: true },
  'skip-prepare': { skipPrepare: true },
  'retired-answers': { retiredAnswers: true },
  'answers-outlive-states': { answersOutliveStates: true },
};

export interface ModelOptions {
  readonly seed: number;
  readonly steps: number;
  readonly mutations?: ModelMutations;
  /** Collects one line per step of interest (replaying a failing seed). */
  readonly trace?: string[];
  /** Largest member set proposed (default 5). */
  readonly maxMembers?: number;
}

export interface ModelResult {
  readonly verdict: Verdict;
  readonly ok: number;
  readonly ops: number;
  /** The highest epoch any member reached as stable. */
  readonly epochs: number;
  readonly problems: string[];
}

const POOL = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
const ADDRS = 3;
const CLIENTS = 5;
const DEADLINE_STEPS = 400;

interface Op { readonly client: number; readonly f: 'read' | 'write'; readonly addr: Addr; readonly deadline: number }
interface Running { readonly proposer: Proposer; readonly value: Configuration; readonly slot: number; attempts: number }

class Member {
  alive = true;
  incarnation = 1;
  readonly regs = new Map<Addr, Versioned>();
  acceptor: AcceptorState = NO_ACCEPTOR_STATE;
  coord: Coordinator | undefined;
  readonly ops = new Map<number, Op>();
  proposal: Running | undefined;
  transfer: { readonly t: Transfer; readonly next: number } | undefined;

  constructor(readonly id: string, public state: ConfigState) {}
}

export function runModel(o: ModelOptions): ModelResult {
  return new Model(o).run();
}

class Model {
  private readonly rng: Random;
  private readonly m: ModelMutations;
  private readonly members = new Map<string, Member>();
  private readonly queue: (() => void)[] = [];
  private readonly history: HistoryEvent[] = [];
  private readonly clientBusy = new Array<boolean>(CLIENTS).fill(false);
  private readonly problems: string[] = [];
  private step = 0;
  private nextOpId = 1;
  private nextValue = 1;
  private ok = 0;
  private ops = 0;
  private maxEpoch = 1;
  /** The member set each epoch was installed with, by whoever installed it first. */
  private readonly installed = new Map<number, string>();

  constructor(private readonly o: ModelOptions) {
    this.rng = new Random(o.seed);
    this.m = o.mutations ?? {};
    const first: Configuration = { epoch: 1, members: POOL.slice(0, 3).map((id) => ({ id, address: id })) };
    for (const id of POOL) {
      // Members outside the first set start empty, knowing only that set (as a new machine would be told).
      const node = new Member(id, { kind: 'stable', current: first });
      this.members.set(id, node);
      this.renewCoordinator(node);
    }
  }

  run(): ModelResult {
    for (; this.step < this.o.steps; this.step++) {
      if (this.queue.length > 0) this.queue.splice(this.rng.int(0, this.queue.length - 1), 1)[0]!();
      if (this.rng.chance(0.3)) this.startClientOp();
      if (this.rng.chance(0.004)) this.propose();
      if (this.rng.chance(0.003)) this.crash();
      if (this.rng.chance(0.01)) this.takeOverTransfer();
      if (this.step % 50 === 0) this.deadlines();
    }
    // Let what is in flight finish, without new work.
    for (let i = 0; i < 20_000 && this.queue.length > 0; i++) this.queue.splice(this.rng.int(0, this.queue.length - 1), 1)[0]!();
    this.step += DEADLINE_STEPS + 1;
    this.deadlines();
    return { verdict: checkHistory(this.history, { budgetMs: 10_000 }), ok: this.ok, ops: this.ops, epochs: this.maxEpoch, problems: this.problems };
  }

  // ---- membership views ---------------------------------------------------------------

  private view(s: ConfigState): Membership {
    if (this.m.onlyNewQuorumInTransition && s.kind === 'joint') return { ...membershipOf({ kind: 'stable', current: s.next }), rank: stateRank(s) };
    return membershipOf(s);
  }

  /** A member adopts a newer state (durably); its coordinator restarts phases under it, or stops when it was removed. */
  private log(line: string): void {
    this.o.trace?.push(`${this.step} ${line}`);
  }

  private adopt(n: Member, s: ConfigState): void {
    if (compareStates(s, n.state) <= 0) return;
    this.log(`${n.id} adopts ${describe(s)}`);
    this.checkOneConfigurationPerEpoch(n, s);
    n.state = s;
    if (s.kind === 'stable') this.maxEpoch = Math.max(this.maxEpoch, s.current.epoch);
    if (n.transfer && (s.kind === 'stable' || s.next.epoch !== n.transfer.next)) n.transfer = undefined;
    if (!this.counted(n, s)) {
      if (n.coord) this.exec(n, n.coord.shutdown());
      n.coord = undefined;
      return;
    }
    if (!n.coord) this.renewCoordinator(n);
    else this.exec(n, n.coord.reconfigure(this.view(s)));
  }

  /** Whether `n` is one of the members its coordinator would count in state `s`. */
  private counted(n: Member, s: ConfigState): boolean {
    return isParticipant(s, n.id) && this.view(s).groups.some((g) => g.members.includes(n.id));
  }

  /** S1 of docs/membership.md: no two members ever hold different member sets for one epoch. */
  private checkOneConfigurationPerEpoch(n: Member, s: ConfigState): void {
    for (const c of s.kind === 'stable' ? [s.current] : [s.current, s.next]) {
      const text = c.members.map((x) => x.id).join(',');
      const seen = this.installed.get(c.epoch);
      if (seen === undefined) this.installed.set(c.epoch, text);
      else if (seen !== text) this.problems.push(`two configurations for epoch ${c.epoch}: ${seen} and ${text} (at ${n.id})`);
    }
  }

  private renewCoordinator(n: Member): void {
    if (!this.counted(n, n.state)) {
      n.coord = undefined;
      return;
    }
    const view = this.view(n.state);
    n.incarnation += 1;
    n.coord = new Coordinator({
      self: n.id, writer: `${n.id}.${n.incarnation}`, members: view.groups[0]!.members, quorum: view.groups[0]!.needed, membership: view,
    });
  }

  // ---- the replica side ----------------------------------------------------------------

  /** A peer request under `theirs`: learn a newer state first, then serve, or say why not. */
  private gate(n: Member, theirs: ConfigState): { serve: true } | { serve: false; state: ConfigState } {
    if (compareStates(theirs, n.state) > 0) this.adopt(n, theirs);
    const d = gateRequest(n.state, n.id, theirs);
    if (d.kind === 'serve' || (d.kind === 'retired' && this.m.retiredAnswers)) return { serve: true };
    if (d.kind === 'learn') return { serve: true }; // adopted above: same state now
    return { serve: false, state: d.state };
  }

  private store(n: Member, items: readonly RegisterItem[]): void {
    for (const i of items) if (shouldStore(n.regs.get(i.addr) ?? INITIAL, i)) n.regs.set(i.addr, { tag: i.tag, value: i.value });
  }

  /** Sends from `from` to `to`; dropped if either is down when it arrives. The answer travels back the same way. */
  private send(from: Member, to: string, handle: (target: Member) => (() => void) | undefined): void {
    const incarnation = from.incarnation;
    this.queue.push(() => {
      const target = this.members.get(to)!;
      if (!target.alive) return;
      const reply = handle(target);
      if (reply) this.queue.push(() => {
        if (from.alive && from.incarnation === incarnation) reply();
      });
    });
  }

  // ---- the coordinator side ------------------------------------------------------------

  private exec(n: Member, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'send-query' || e.type === 'send-update') {
        const sentUnder = n.state;
        const coord = n.coord!;
        for (const to of e.to) {
          this.send(n, to, (t) => {
            const g = this.gate(t, sentUnder);
            if (!g.serve) return () => this.adopt(n, g.state);
            const rank = this.m.answersOutliveStates ? undefined : stateRank(sentUnder); // served only under the sender's state (or as if, when retired and broken)
            if (e.type === 'send-query') {
              const pair = t.regs.get(e.addr) ?? INITIAL;
              return () => { if (n.coord === coord) this.exec(n, coord.onQueryReply(e.opId, to, pair, rank, e.values)); };
            }
            this.store(t, [e.item]);
            this.log(`${t.id} stores ${e.item.addr}=${e.item.tag.seq}@${e.item.tag.writer} ${e.item.value} (op ${e.opId} via ${n.id})`);
            return () => { if (n.coord === coord) this.exec(n, coord.onUpdateAck(e.opId, to, rank)); };
          });
        }
      } else if (e.type === 'resolve' || e.type === 'reject') {
        const op = n.ops.get(e.opId);
        if (!op) continue;
        n.ops.delete(e.opId);
        this.clientBusy[op.client] = false;
        this.log(`${n.id} ${e.type} op ${e.opId} ${op.f} ${op.addr}${e.type === 'resolve' ? ` tag ${e.result.tag.seq}@${e.result.tag.writer}${e.result.kind === 'read' ? ` value ${e.result.value}` : ''}` : ''}`);
        if (e.type === 'resolve') {
          this.ok += 1;
          this.history.push({ type: 'ok', process: op.client, f: op.f, addr: op.addr, ...(e.result.kind === 'read' ? { value: e.result.value } : {}) });
        } else {
          this.history.push({ type: op.f === 'write' ? 'info' : 'fail', process: op.client, f: op.f, addr: op.addr });
        }
      }
    }
  }

  private startClientOp(): void {
    const client = this.rng.int(0, CLIENTS - 1);
    if (this.clientBusy[client]) return;
    const coordinators = [...this.members.values()].filter((n) => n.alive && n.coord);
    if (coordinators.length === 0) return;
    const n = this.rng.pick(coordinators);
    const addr = this.rng.int(0, ADDRS - 1);
    const f = this.rng.chance(0.5) ? 'write' : 'read';
    const opId = this.nextOpId++;
    this.clientBusy[client] = true;
    this.ops += 1;
    n.ops.set(opId, { client, f, addr, deadline: this.step + DEADLINE_STEPS });
    if (f === 'write') {
      const value = `v${this.nextValue++}`;
      this.history.push({ type: 'invoke', process: client, f, addr, value });
      this.log(`${n.id} invoke op ${opId} write ${addr} ${value} under ${describe(n.state)}`);
      this.exec(n, n.coord!.write(opId, addr, value));
    } else {
      this.history.push({ type: 'invoke', process: client, f, addr });
      this.log(`${n.id} invoke op ${opId} read ${addr} under ${describe(n.state)}`);
      this.exec(n, n.coord!.read(opId, addr));
    }
  }

  private deadlines(): void {
    for (const n of this.members.values()) {
      for (const [opId, op] of [...n.ops]) {
        if (op.deadline > this.step) continue;
        if (n.coord) this.exec(n, n.coord.onDeadline(opId));
        if (n.ops.has(opId)) this.exec(n, [{ type: 'reject', opId, failure: { code: 'quorum_unavailable', message: 'deadline' } }]);
      }
    }
  }

  // ---- faults ---------------------------------------------------------------------------

  /** A member dies and comes back a little later: registers, configuration and acceptor state survive. */
  private crash(): void {
    const alive = [...this.members.values()].filter((x) => x.alive);
    if (alive.length === 0) return;
    const n = this.rng.pick(alive);
    n.alive = false;
    this.log(`${n.id} crashes`);
    for (const [opId, op] of [...n.ops]) {
      n.ops.delete(opId);
      this.clientBusy[op.client] = false;
      this.history.push({ type: op.f === 'write' ? 'info' : 'fail', process: op.client, f: op.f, addr: op.addr });
    }
    n.proposal = undefined;
    n.transfer = undefined;
    const back = this.step + this.rng.int(20, 300);
    const wake = (): void => {
      if (this.step < back) {
        this.queue.push(wake);
        return;
      }
      n.alive = true;
      this.renewCoordinator(n);
    };
    this.queue.push(wake);
  }

  // ---- reconfiguration -----------------------------------------------------------------

  /** A member in a stable configuration proposes the next: one member added or removed (sometimes two proposers at once). */
  private propose(): void {
    const candidates = [...this.members.values()].filter((n) => n.alive && n.state.kind === 'stable' && isParticipant(n.state, n.id) && !n.proposal);
    if (candidates.length === 0) return;
    const proposers = this.rng.chance(this.m.skipPrepare ? 0.9 : 0.3) ? 2 : 1;
    for (const n of [...candidates].sort(() => this.rng.next() - 0.5).slice(0, proposers)) {
      const value: Configuration = { epoch: n.state.current.epoch + 1, members: this.nextMembers(n.state.current) };
      this.runProposal(n, value, this.rng.int(0, 3), 0);
    }
  }

  /**
   * One change of the member set: add or remove one or two members, or replace one (remove
   * and add in one step, the dead-machine case). Changes of more than one member are where the
   * old and the new majorities need not intersect, and so where the joint phase matters.
   */
  private nextMembers(current: Configuration): Configuration['members'] {
    const ids = current.members.map((x) => x.id);
    const outside = POOL.filter((id) => !ids.includes(id));
    const shuffled = (xs: string[]): string[] => [...xs].sort(() => this.rng.next() - 0.5);
    const kinds: ('add' | 'add2' | 'remove' | 'remove2' | 'replace')[] = [];
    const max = this.o.maxMembers ?? 5;
    if (ids.length < max && outside.length > 0) kinds.push('add');
    if (ids.length < max - 1 && outside.length > 1) kinds.push('add2');
    if (ids.length > 1) kinds.push('remove');
    if (ids.length > 2) kinds.push('remove2');
    if (outside.length > 0) kinds.push('replace');
    const kind = this.rng.pick(kinds);
    const removing = kind === 'remove' || kind === 'replace' ? shuffled(ids).slice(0, 1) : kind === 'remove2' ? shuffled(ids).slice(0, 2) : [];
    const adding = kind === 'add' || kind === 'replace' ? shuffled(outside).slice(0, 1) : kind === 'add2' ? shuffled(outside).slice(0, 2) : [];
    return [...ids.filter((id) => !removing.includes(id)), ...adding].map((id) => ({ id, address: id }));
  }

  private runProposal(n: Member, value: Configuration, round: number, attempts: number): void {
    if (n.state.kind !== 'stable' || n.state.current.epoch + 1 !== value.epoch) return;
    const acceptors = n.state.current.members.map((x) => x.id);
    const proposer = new Proposer(acceptors, value.epoch, { round, node: n.id }, value, { skipPrepare: this.m.skipPrepare });
    n.proposal = { proposer, value, slot: value.epoch, attempts };
    this.execProposer(n, proposer, proposer.start());
  }

  private execProposer(n: Member, p: Proposer, effects: readonly ProposerEffect[]): void {
    for (const e of effects) {
      if (n.proposal?.proposer !== p) return;
      if (e.type === 'prepare' || e.type === 'accept') {
        const sentUnder = n.state;
        for (const to of e.to) {
          this.send(n, to, (a) => {
            if (compareStates(sentUnder, a.state) > 0) this.adopt(a, sentUnder);
            // Only a member still in stable(slot - 1) takes part; one that moved on tells the proposer.
            if (a.state.kind !== 'stable' || a.state.current.epoch !== e.slot - 1) {
              const decided = a.state;
              return () => this.adopt(n, decided);
            }
            if (a.acceptor.slot > e.slot) return undefined;
            if (e.type === 'prepare') {
              const r = onPrepare(a.acceptor, e.slot, e.ballot);
              a.acceptor = r.state;
              return () => this.execProposer(n, p, p.onPrepareReply(to, r.reply));
            }
            const r = onAccept(a.acceptor, e.slot, e.ballot, e.value);
            a.acceptor = r.state;
            return () => this.execProposer(n, p, p.onAcceptReply(to, r.reply));
          });
        }
      } else if (e.type === 'outbid') {
        const running = n.proposal!;
        n.proposal = undefined;
        if (running.attempts < 3) this.runProposal(n, running.value, e.promised.round + 1, running.attempts + 1);
      } else {
        n.proposal = undefined;
        if (n.state.kind !== 'stable' || n.state.current.epoch + 1 !== e.value.epoch) return;
        if (this.m.newConfigBeforeTransfer) {
          this.adopt(n, { kind: 'stable', current: e.value });
          this.broadcast(n);
          return;
        }
        this.adopt(n, { kind: 'joint', current: n.state.current, next: e.value });
        this.startTransfer(n);
      }
    }
  }

  /** Some member in a transition without a transfer runs one (the proposer may have crashed). */
  private takeOverTransfer(): void {
    const stalled = [...this.members.values()].filter((n) => n.alive && n.state.kind === 'joint' && !n.transfer);
    if (stalled.length > 0) this.startTransfer(this.rng.pick(stalled));
  }

  private startTransfer(n: Member): void {
    const s = n.state;
    if (s.kind !== 'joint') return;
    this.log(`${n.id} starts a transfer to ${describe(s)}`);
    const t = new Transfer(s.current.members.map((x) => x.id), quorumOf(s.current), s.next.members.map((x) => x.id), quorumOf(s.next));
    n.transfer = { t, next: s.next.epoch };
    this.execTransfer(n, t, t.start());
  }

  private execTransfer(n: Member, t: Transfer, effects: readonly TransferEffect[]): void {
    for (const e of effects) {
      if (n.transfer?.t !== t) return;
      const sentUnder = n.state;
      if (e.type === 'fetch') {
        this.send(n, e.from, (src) => {
          const g = this.gate(src, sentUnder);
          if (!g.serve) return () => this.adopt(n, g.state);
          const all = [...src.regs.entries()].filter(([a]) => e.after === null || a > e.after).sort(([a], [b]) => a - b);
          const items = all.slice(0, this.rng.int(1, 2)).map(([addr, v]) => ({ addr, ...v }));
          this.log(`${src.id} gives ${n.id} a page after ${e.after}: ${items.map((i) => `${i.addr}=${i.tag.seq}@${i.tag.writer}`).join(' ')}`);
          const page = { initialized: true, items, next: items.length < all.length ? items[items.length - 1]!.addr : null };
          return () => this.execTransfer(n, t, t.onPage(e.from, page));
        });
      } else if (e.type === 'write') {
        for (const to of sentUnder.kind === 'joint' ? sentUnder.next.members.map((x) => x.id) : []) {
          this.send(n, to, (target) => {
            const g = this.gate(target, sentUnder);
            if (!g.serve) return () => this.adopt(n, g.state);
            this.store(target, e.items);
            this.log(`${target.id} stores transfer items up to ${e.upTo}: ${e.items.map((i) => `${i.addr}=${i.tag.seq}@${i.tag.writer}`).join(' ')}`);
            return () => this.execTransfer(n, t, t.onStored(to, e.upTo));
          });
        }
      } else if (e.type === 'done') {
        n.transfer = undefined;
        if (sentUnder.kind !== 'joint') return;
        this.adopt(n, { kind: 'stable', current: sentUnder.next });
        this.broadcast(n);
      }
    }
  }

  /**
   * Tells every other member about this member's state. Best effort: half of these messages
   * are lost, so members also learn lazily, from the gate's answers, as they would in a
   * partition (and stale members coordinating is what the checks need to see).
   */
  private broadcast(n: Member): void {
    const s = n.state;
    for (const id of POOL) {
      if (id === n.id || this.rng.chance(0.5)) continue;
      this.send(n, id, (x) => { this.adopt(x, s); return undefined; });
    }
  }
}

function describe(s: ConfigState): string {
  const ids = (c: Configuration): string => `${c.epoch}{${c.members.map((m) => m.id).join(',')}}`;
  return s.kind === 'stable' ? ids(s.current) : `${ids(s.current)}->${ids(s.next)}`;
}
