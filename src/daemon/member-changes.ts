import { limits } from '../core/limits.js';
import { majority } from '../core/quorum.js';
import type { RegisterPage } from '../core/recovery.js';
import type { Addr, MemberId, RegisterItem } from '../core/types.js';
import { ConfigStateError, MemberChangeError, RecoveringError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { describeChange, type ConfigState, type Configuration, type Member } from '../membership/configuration.js';
import { describeState, toConfigState, type ConfigStore } from '../membership/config-store.js';
import { participantAddresses, type MembershipKeeper } from '../membership/keeper.js';
import { acceptorAfterRecovery, onAccept, onPrepare, Proposer, type AcceptReply, type Ballot, type PaxosMutations, type PrepareReply, type ProposerEffect } from '../membership/paxos.js';
import { Transfer, type TransferEffect } from '../membership/transfer.js';
import { mergeAcceptorRows, type AcceptorPage, type AcceptorRow } from '../core/rmw.js';
import { valueSize } from '../core/value.js';
import type { Clock, Random } from '../platform/clock.js';
import { PeerAnswerError, PeerRefusedError, type ConfigLink } from '../transport/peer-link.js';
import { ACCEPTOR_PAGE_ITEMS, REGISTER_PAGE_ITEMS } from '../transport/wire.js';
import type { Replica } from './replica.js';

/** What an operator asks (POST /members, `shmem member ...`). */
export type ChangeRequest =
  | { readonly action: 'add'; readonly address: MemberId }
  | { readonly action: 'remove'; readonly member: string }
  | { readonly action: 'replace'; readonly member: string; readonly address: MemberId };

/** What a completed change reports. */
export interface ChangeOutcome {
  readonly epoch: number;
  readonly change: string;
  readonly members: readonly Member[];
  readonly registersCopied: number;
  readonly ms: number;
  /** Set when another proposer's change won the epoch: ours was not made (and may be asked again). */
  readonly superseded?: string;
}

/** Counted in /metrics and logged: one line per step of every change. */
export type ChangeStep = 'proposed' | 'chosen' | 'joint' | 'transferred' | 'retired' | 'failed';

export interface MemberChangesDeps {
  readonly self: MemberId;
  readonly nodeId: string;
  readonly keeper: MembershipKeeper;
  readonly configStore: ConfigStore;
  readonly replica: Replica;
  /**
   * The node's operation deadline: a Paxos phase counts no answer after it, like an operation
   * (core/recovery.ts), so a wiped member's recovery fence outlasts every vote it lost.
   */
  readonly opDeadlineMs: number;
  /** A link to any address: the node's own to a member, or a short-lived one to a node that is not one yet. */
  readonly linkTo: (address: MemberId) => { link: ConfigLink; release: () => void };
  readonly clusterId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
  readonly onStep?: (step: ChangeStep) => void;
  readonly mutations?: MemberChangeMutations;
}

/** Broken variants the simulation must catch (test/sim/mutations.ts); production passes none. */
export interface MemberChangeMutations extends PaxosMutations {
  /** The new configuration counts at once: retired right after it is chosen, no state transfer. */
  readonly skipTransfer?: boolean;
  /** A wiped member votes in Paxos with an empty acceptor state, even while it recovers (what shmem did before seed 9991). */
  readonly wipedAcceptorForgets?: boolean;
}

/** Paxos messages and page fetches wait this long for one member. */
const ANSWER_WAIT_MS = 5_000;
/** Rounds of Paxos a change tries before it reports that it was outbid. */
const ROUNDS_MAX = 5;
/** A transition this old with nobody finishing it here is finished by this member (the proposer may have crashed). */
const STALLED_AFTER_MS = 10_000;
/** A member command waits this long without transfer progress before it says the change goes on by itself. */
const STALL_MS = 30_000;

/**
 * Changes of the member set, run by the member an operator asked (docs/membership.md): agree
 * on configuration e+1 with Paxos among the members of e, enter the joint phase, copy what a
 * majority of e holds to a majority of e+1 (the state transfer, resumable from a durable
 * cursor), then retire e. Any member that finds a transition stalled finishes it, and so
 * does a member that restarts in one.
 */
export class MemberChanges {
  private finishing: Promise<ConfigState> | undefined;
  private changing = false;
  private lastTransferProblem: string | undefined;
  private jointSinceMs: number | undefined;
  private watchTimer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly stopped = new AbortController();
  /** Progress of the transfer running here, for status, top and /readyz. */
  transfer: { epoch: number; registers: number; cursor: Addr | null } | undefined;

  constructor(private readonly deps: MemberChangesDeps) {
    deps.keeper.onChange((next) => {
      this.jointSinceMs = next.kind === 'joint' ? deps.clock.now() : undefined;
    });
    if (deps.keeper.state.kind === 'joint') this.jointSinceMs = deps.clock.now() - STALLED_AFTER_MS;
    deps.replica.paxos = {
      state: () => deps.configStore.acceptor(),
      undecided: () => deps.configStore.acceptor().slot > deps.keeper.state.current.epoch,
      recovered: (copied) => {
        if (deps.mutations?.wipedAcceptorForgets) return;
        const own = deps.configStore.acceptor();
        const next = acceptorAfterRecovery(own, copied);
        if (next.slot !== own.slot || next.promised !== own.promised || next.accepted !== own.accepted) {
          deps.configStore.saveAcceptor(next);
          deps.logger.info('took on the Paxos votes of the members it copied (this data dir lost its own)', { slot: next.slot, promised: next.promised, accepted: next.accepted?.ballot ?? null });
        }
      },
    };
  }

  /** Watches for a stalled transition (and resumes one this member restarted in). */
  start(): void {
    const tick = (): void => {
      if (this.stopped.signal.aborted) return;
      const s = this.deps.keeper.state;
      if (s.kind === 'joint' && !this.finishing && this.jointSinceMs !== undefined && this.deps.clock.now() - this.jointSinceMs >= STALLED_AFTER_MS
        && s.current.members.some((m) => m.address === this.deps.self)) {
        this.deps.logger.warn('a change of the member set is unfinished: finishing it here', { state: describeState(s) });
        void this.finish(s).catch((err: unknown) => this.deps.logger.warn('could not finish the change yet; trying again later', { err: (err as Error).message }));
      }
      this.watchTimer = this.deps.clock.setTimeout(tick, 2_000);
    };
    this.watchTimer = this.deps.clock.setTimeout(tick, 1_000);
  }

  stop(): void {
    this.stopped.abort();
    this.deps.clock.clearTimeout(this.watchTimer);
  }

  /** Runs one change to completion, or throws MemberChangeError (nothing changed, or it resumes by itself). */
  async change(request: ChangeRequest): Promise<ChangeOutcome> {
    if (this.changing) throw new MemberChangeError('change_refused', 'another change of the member set is running on this node; wait for it');
    this.changing = true;
    const startedMs = this.deps.clock.now();
    try {
      let state = this.deps.keeper.state;
      if (!this.deps.keeper.isMember) throw new MemberChangeError('change_refused', `${this.deps.self} is not a member of ${describeState(state)}; ask a member`);
      // A transition in progress is finished first: changes are serial (docs/membership.md S5).
      if (state.kind === 'joint') state = await this.finishOrStall(state);
      if (state.kind !== 'stable') throw new MemberChangeError('change_failed', 'the change in progress did not finish');
      const current = state.current;
      const wanted = await this.target(current, request);
      this.step('proposed', { from: describeState(state), change: describeChange(current, wanted) });
      const chosen = await this.choose(current, wanted);
      this.step('chosen', { epoch: chosen.epoch, change: describeChange(current, chosen), ours: sameConfiguration(chosen, wanted) });
      const joint: ConfigState = { kind: 'joint', current, next: chosen };
      this.deps.keeper.adopt(joint);
      this.step('joint', { state: describeState(joint) });
      const final = await this.finishOrStall(joint);
      const superseded = sameConfiguration(chosen, wanted) ? undefined : `another change won epoch ${chosen.epoch}: ${describeChange(current, chosen)}; yours was not made`;
      return {
        epoch: chosen.epoch, change: describeChange(current, chosen), members: final.current.members,
        registersCopied: this.transfer?.registers ?? 0, ms: Math.round(this.deps.clock.now() - startedMs), ...(superseded ? { superseded } : {}),
      };
    } catch (err) {
      this.step('failed', { err: (err as Error).message });
      throw err;
    } finally {
      this.changing = false;
    }
  }

  /** The configuration the request asks for, or change_refused naming why not. */
  private async target(current: Configuration, request: ChangeRequest): Promise<Configuration> {
    const members = [...current.members];
    const find = (text: string): Member => {
      const m = members.find((x) => x.id === text || x.address === text);
      if (!m) throw new MemberChangeError('change_refused', `${text.slice(0, 80)} is not a member of epoch ${current.epoch} (${members.map((x) => `${x.id} ${x.address}`).join(', ')})`);
      return m;
    };
    let out = members;
    if (request.action === 'remove' || request.action === 'replace') {
      const gone = find(request.member);
      out = out.filter((m) => m !== gone);
    }
    if (request.action === 'add' || request.action === 'replace') {
      if (out.some((m) => m.address === request.address) || (request.action === 'add' && members.some((m) => m.address === request.address))) {
        throw new MemberChangeError('change_refused', `${request.address} is already a member of epoch ${current.epoch}`);
      }
      out = [...out, await this.newMember(request.address)];
    }
    if (out.length === 0) throw new MemberChangeError('change_refused', 'the last member cannot be removed');
    if (out.length > limits.membersMax) throw new MemberChangeError('change_refused', `${out.length} members, at most ${limits.membersMax} are supported`);
    return { epoch: current.epoch + 1, members: out.sort((a, b) => (a.address < b.address ? -1 : 1)) };
  }

  /** Asks the node at `address` who it is: it must be running, of this cluster, and not a member elsewhere. */
  private async newMember(address: MemberId): Promise<Member> {
    const { link, release } = this.deps.linkTo(address);
    try {
      const answer = await withTimeout(this.deps.clock, link.config(this.stopped.signal), ANSWER_WAIT_MS, `${address} did not answer`);
      if (answer.clusterId !== this.deps.clusterId) {
        throw new MemberChangeError('change_refused', `${address} belongs to another cluster (${answer.clusterId}, this is ${this.deps.clusterId})`, {
          hint: `start the new node with an empty data dir and --join ${this.deps.self}`,
        });
      }
      if (answer.nodeId === this.deps.nodeId) throw new MemberChangeError('change_refused', `${address} is this node itself`);
      return { id: answer.nodeId, address };
    } catch (err) {
      if (err instanceof MemberChangeError) throw err;
      if (err instanceof PeerRefusedError) {
        throw new MemberChangeError('change_refused', `${address} belongs to another cluster, or refuses this cluster's credentials: ${err.message}`, {
          hint: `start the new node on an empty data dir with --join ${this.deps.self} and the cluster's credentials`,
        });
      }
      throw new MemberChangeError('change_refused', `cannot reach ${address}: ${(err as Error).message}`, {
        hint: `start it first: shmem start --port <port> --data-dir <empty dir> --join ${this.deps.self}`,
      });
    } finally {
      release();
    }
  }

  /** Paxos among the members of `current` for epoch current+1; resolves with the chosen configuration. */
  private async choose(current: Configuration, wanted: Configuration): Promise<Configuration> {
    const acceptors = current.members.map((m) => m.address);
    let round = (this.deps.configStore.acceptor().promised?.round ?? 0) + 1;
    for (let attempt = 0; attempt < ROUNDS_MAX; attempt += 1) {
      const ballot: Ballot = { round, node: this.deps.nodeId };
      const proposer = new Proposer(acceptors, wanted.epoch, ballot, wanted, this.deps.mutations);
      const outcome = await this.runProposer(proposer, proposer.start());
      if (outcome.type === 'chosen') return outcome.value;
      if (outcome.type === 'outbid') {
        round = Math.max(round, outcome.promised.round) + 1;
        await sleep(this.deps.clock, 20 + this.deps.random.next() * 200);
        continue;
      }
      throw new MemberChangeError('change_failed', `no majority of the current members (epoch ${current.epoch}: ${acceptors.join(', ')}) answered: ${outcome.why}; nothing changed`, {
        hint: 'a change needs a majority of the current members up; bring them back, or replace the dead ones one at a time while a majority is up',
      });
    }
    throw new MemberChangeError('change_failed', `outbid ${ROUNDS_MAX} times by other proposers; nothing changed here, retry`);
  }

  private async runProposer(proposer: Proposer, first: ProposerEffect[]): Promise<{ type: 'chosen'; value: Configuration } | { type: 'outbid'; promised: Ballot } | { type: 'failed'; why: string }> {
    let effects = first;
    const errors: string[] = [];
    for (;;) {
      const send = effects.find((e) => e.type === 'prepare' || e.type === 'accept');
      const end = effects.find((e) => e.type === 'chosen' || e.type === 'outbid');
      if (end?.type === 'chosen') return { type: 'chosen', value: end.value };
      if (end?.type === 'outbid') return { type: 'outbid', promised: end.promised };
      if (!send || (send.type !== 'prepare' && send.type !== 'accept')) return { type: 'failed', why: errors.join('; ') || 'no answers' };
      // Send to every acceptor at once; feed the replies as they come, until the proposer says
      // what is next. No answer counts after one operation deadline: a wiped member's recovery
      // fence lasts at least that long, so every vote it gave before it lost them was counted or never will be.
      const next = await new Promise<ProposerEffect[]>((resolve) => {
        let pending = send.to.length;
        let settled = false;
        const phaseTimer = this.deps.clock.setTimeout(() => {
          if (settled) return;
          settled = true;
          errors.push(`no majority answered within ${this.deps.opDeadlineMs} ms`);
          resolve([]);
        }, this.deps.opDeadlineMs);
        const done = (e: ProposerEffect[]): void => {
          if (settled) return;
          if (e.length > 0) {
            settled = true;
            this.deps.clock.clearTimeout(phaseTimer);
            resolve(e);
          } else if (--pending === 0) {
            settled = true;
            this.deps.clock.clearTimeout(phaseTimer);
            resolve([]);
          }
        };
        for (const to of send.to) {
          const message = send.type === 'prepare'
            ? { op: 'prepare' as const, slot: send.slot, ballot: send.ballot }
            : { op: 'accept' as const, slot: send.slot, ballot: send.ballot, value: send.value };
          this.paxosTo(to, message).then((reply) => {
            if (settled) return;
            const parsed = toReply(reply);
            if (parsed === undefined) {
              errors.push(`${to}: a malformed answer`);
              done([]);
            } else if (send.type === 'prepare' && (parsed.type === 'promise' || parsed.type === 'reject')) {
              done(proposer.onPrepareReply(to, parsed as PrepareReply));
            } else if (send.type === 'accept' && (parsed.type === 'accepted' || parsed.type === 'reject')) {
              done(proposer.onAcceptReply(to, parsed as AcceptReply));
            } else {
              errors.push(`${to}: ${parsed.type === 'decided' ? 'the epoch was already decided' : 'an unexpected answer'}`);
              if (parsed.type === 'decided' && parsed.state !== undefined) {
                const s = toConfigState(parsed.state);
                if (typeof s !== 'string') this.deps.keeper.adopt(s);
              }
              done([]);
            }
          }, (err: unknown) => {
            errors.push(`${to}: ${(err as Error).message}`);
            done([]);
          });
        }
      });
      effects = next;
    }
  }

  private async paxosTo(to: MemberId, message: Parameters<ConfigLink['paxos']>[0]): Promise<unknown> {
    if (to === this.deps.self) return this.acceptorStep(message);
    const { link, release } = this.deps.linkTo(to);
    try {
      return await this.withStateRepair(to, link, () => withTimeout(this.deps.clock, link.paxos(message, this.stopped.signal), ANSWER_WAIT_MS, 'no answer'));
    } finally {
      release();
    }
  }

  /**
   * The acceptor's side (POST /peer/paxos): checked, stored durably, then answered. A slot
   * this member already moved past is answered `decided` with its state (the proposer learns
   * the configuration it missed).
   */
  acceptorStep(body: unknown): unknown {
    const m = toPaxosMessage(body);
    if (typeof m === 'string') throw new ConfigStateError('stale_config', `a malformed Paxos message: ${m}`);
    // A wiped member does not vote until it has taken on the votes of the members it copies.
    if (this.deps.replica.recovering && !this.deps.mutations?.wipedAcceptorForgets) {
      throw new RecoveringError('this member is recovering its data from the other members and does not vote on member changes yet');
    }
    const state = this.deps.keeper.state;
    const stableEpoch = state.current.epoch;
    if (m.slot <= stableEpoch) return { type: 'decided', state };
    // The proposer knows a newer member set than ours: we may be one of its members without
    // knowing it (the news was lost). It sends us its state, then asks again (withStateRepair).
    if ((state.kind === 'joint' && m.slot > state.next.epoch) || (state.kind === 'stable' && m.slot > stableEpoch + 1)) {
      throw new ConfigStateError('config_behind', `a Paxos message for epoch ${m.slot}, but this member holds ${describeState(state)}; send it first`);
    }
    const acceptor = this.deps.configStore.acceptor();
    const before = acceptor.slot > m.slot ? { slot: m.slot, promised: null, accepted: null } : acceptor;
    const step = m.op === 'prepare' ? onPrepare(before, m.slot, m.ballot) : onAccept(before, m.slot, m.ballot, m.value);
    this.deps.configStore.saveAcceptor(step.state);
    return step.reply;
  }

  /**
   * finish(), but a caller waits only while the transfer makes progress: after STALL_MS without
   * any, it gets change_failed saying the change goes on by itself (the cluster still serves
   * once a majority of both sets answers), naming who does not answer.
   */
  private finishOrStall(joint: ConfigState): Promise<ConfigState> {
    const run = this.finish(joint);
    return new Promise<ConfigState>((resolve, reject) => {
      let last = -1;
      let lastMoveMs = this.deps.clock.now();
      const watch = (): void => {
        const now = this.transfer?.registers ?? 0;
        if (now !== last) {
          last = now;
          lastMoveMs = this.deps.clock.now();
        }
        if (this.deps.clock.now() - lastMoveMs >= STALL_MS) {
          reject(new MemberChangeError('change_failed', `the change to ${describeState(joint)} was chosen, but its state transfer made no progress for ${STALL_MS / 1000} s: ` +
            `a majority of the old and of the new members must answer (${this.lastTransferProblem ?? 'no answers'}); it goes on by itself once they do`, {
            hint: 'bring the members back; `shmem member list` shows the change while it is in progress',
          }));
          return;
        }
        timer = this.deps.clock.setTimeout(watch, 1_000);
      };
      let timer = this.deps.clock.setTimeout(watch, 1_000);
      run.then((s) => {
        this.deps.clock.clearTimeout(timer);
        resolve(s);
      }, (err: unknown) => {
        this.deps.clock.clearTimeout(timer);
        reject(err);
      });
    });
  }

  /**
   * Finishes the transition `joint`: the state transfer, then the retirement of the old
   * configuration. Resolves with the stable state; concurrent callers share one run.
   */
  finish(joint: ConfigState): Promise<ConfigState> {
    this.finishing ??= this.runFinish(joint).finally(() => (this.finishing = undefined));
    return this.finishing;
  }

  private async runFinish(joint: ConfigState): Promise<ConfigState> {
    if (joint.kind !== 'joint') return joint;
    const rank = 2 * joint.current.epoch + 1;
    const startedMs = this.deps.clock.now();
    const copied = this.deps.mutations?.skipTransfer ? 0 : await this.runTransfer(joint, rank);
    if (this.deps.keeper.rank > rank) return this.deps.keeper.state; // someone else finished it
    if (!this.deps.mutations?.skipTransfer) await this.transferAcceptors(joint, rank);
    if (this.deps.keeper.rank > rank) return this.deps.keeper.state;
    this.step('transferred', { epoch: joint.next.epoch, registers: copied, ms: Math.round(this.deps.clock.now() - startedMs) });
    const stable: ConfigState = { kind: 'stable', current: joint.next };
    this.deps.keeper.adopt(stable);
    this.step('retired', { epoch: joint.current.epoch, state: describeState(stable) });
    // Everyone of both sets hears of it (the old members stop answering, the new ones count alone);
    // not waited for: a member that is down learns it from the first answer that carries it.
    void this.tellAll(participantAddresses(joint), stable);
    return this.deps.keeper.state;
  }

  /** Tells every address the state, best effort (the others learn it from the first answer that carries it). */
  private async tellAll(addresses: readonly MemberId[], state: ConfigState): Promise<void> {
    await Promise.all(addresses.filter((a) => a !== this.deps.self).map(async (a) => {
      const { link, release } = this.deps.linkTo(a);
      try {
        await withTimeout(this.deps.clock, link.pushConfig(state, this.stopped.signal), ANSWER_WAIT_MS, 'no answer');
      } catch (err) {
        this.deps.logger.debug('could not tell a member the new member set now', { peer: a, err: (err as Error).message });
      } finally {
        release();
      }
    }));
  }

  /** Runs membership/transfer.ts over the links until done; resumes from the durable cursor of this epoch. */
  private async runTransfer(joint: Extract<ConfigState, { kind: 'joint' }>, rank: number): Promise<number> {
    const sources = joint.current.members.map((m) => m.address);
    const targets = joint.next.members.map((m) => m.address);
    const saved = this.savedCursor(joint.next.epoch);
    const transfer = new Transfer(sources, majority(sources.length), targets, majority(targets.length), saved);
    this.transfer = { epoch: joint.next.epoch, registers: 0, cursor: saved };
    // Every member of both sets is told of the transition (not waited for: a page or a write sent
    // to a member that does not know it yet is answered config_behind, and it is told then).
    void this.tellAll(participantAddresses(joint), joint);
    return new Promise<number>((resolve, reject) => {
      let finished = false;
      const fail = (err: unknown): void => {
        if (finished) return;
        finished = true;
        reject(err);
      };
      const run = (effects: TransferEffect[]): void => {
        for (const e of effects) {
          if (finished) return;
          if (e.type === 'done') {
            finished = true;
            this.transfer = { epoch: joint.next.epoch, registers: e.registers, cursor: null };
            resolve(e.registers);
            return;
          }
          if (e.type === 'progress') {
            this.saveCursor(joint.next.epoch, e.cursor);
            this.transfer = { epoch: joint.next.epoch, registers: e.registers, cursor: e.cursor };
          } else if (e.type === 'fetch') {
            void this.retrying(() => this.page(e.from, e.after, rank), () => finished || this.moved(rank)).then((page) => {
              if (page && !finished) run(transfer.onPage(e.from, page));
              else if (!finished && this.moved(rank)) fail(new MemberChangeError('change_failed', 'the member set moved on during the transfer'));
            }, fail);
          } else if (e.type === 'write') {
            for (const to of targets) {
              void this.retrying(() => this.write(to, e.items, rank), () => finished || this.moved(rank)).then((ok) => {
                if (ok !== undefined && !finished) run(transfer.onStored(to, e.upTo));
              }, fail);
            }
          }
        }
      };
      run(transfer.start());
    }).catch((err: unknown) => {
      if (this.moved(rank)) return this.transfer?.registers ?? 0;
      throw err;
    });
  }

  /**
   * The rmw acceptor rows go with the registers (docs/rmw.md, "Acceptor state"): read from a
   * majority of the old members (every promise, acceptance and commit that counted before the
   * joint phase is on one of them), merged address by address, and merged into a majority of
   * the new members' rows, before the old set retires. During the joint phase new ones need a
   * quorum of both sets, so they reach the new set anyway. Rows are held in memory meanwhile
   * (one per address ever changed by cas or add).
   */
  private async transferAcceptors(joint: Extract<ConfigState, { kind: 'joint' }>, rank: number): Promise<void> {
    const sources = joint.current.members.map((m) => m.address);
    const targets = joint.next.members.map((m) => m.address);
    const rows = new Map<Addr, AcceptorRow>();
    await this.fromMajority(sources, async (from) => {
      for (let after: Addr | null = null; ;) {
        const page = await this.acceptorPage(from, after, rank);
        for (const { addr, row } of page.items) {
          const had = rows.get(addr);
          rows.set(addr, had === undefined ? row : mergeAcceptorRows([had, row], limits.rmwCommitHistory));
        }
        if (page.next === null) return;
        after = page.next;
      }
    }, rank);
    if (rows.size === 0) return;
    const batches = acceptorBatches([...rows].map(([addr, row]) => ({ addr, row })));
    await this.fromMajority(targets, async (to) => {
      for (const batch of batches) {
        if (to === this.deps.self) {
          await this.deps.replica.mergeAcceptors(batch, rank);
          continue;
        }
        const { link, release } = this.deps.linkTo(to);
        try {
          await this.withStateRepair(to, link, () => link.mergeAcceptors(batch, this.stopped.signal, rank));
        } finally {
          release();
        }
      }
    }, rank);
  }

  /** Runs `each` for every member, retrying, until a majority succeeded (or the state moved on). */
  private async fromMajority(members: readonly MemberId[], each: (m: MemberId) => Promise<void>, rank: number): Promise<void> {
    const needed = majority(members.length);
    let done = 0;
    await new Promise<void>((resolve) => {
      for (const m of members) {
        void this.retrying(async () => {
          await each(m);
          return true as const;
        }, () => done >= needed || this.moved(rank)).then((ok) => {
          if (ok !== undefined) done += 1;
          if (done >= needed || this.moved(rank)) resolve();
        }, () => {});
      }
      if (members.length === 0) resolve();
    });
  }

  private async acceptorPage(from: MemberId, after: Addr | null, rank: number): Promise<AcceptorPage> {
    if (from === this.deps.self) return this.deps.replica.acceptorPage(after, rank);
    const { link, release } = this.deps.linkTo(from);
    try {
      return await this.withStateRepair(from, link, () => link.acceptors(after, this.stopped.signal, rank));
    } finally {
      release();
    }
  }

  /** The state moved past `rank` here: the transition is over (someone finished it). */
  private moved(rank: number): boolean {
    return this.deps.keeper.rank > rank || this.stopped.signal.aborted;
  }

  private async page(from: MemberId, after: Addr | null, rank: number): Promise<RegisterPage> {
    if (from === this.deps.self) return this.deps.replica.page(after, REGISTER_PAGE_ITEMS, rank);
    const { link, release } = this.deps.linkTo(from);
    try {
      return await this.withStateRepair(from, link, () => link.registers(after, this.stopped.signal, rank));
    } finally {
      release();
    }
  }

  private async write(to: MemberId, items: readonly RegisterItem[], rank: number): Promise<true> {
    for (let i = 0; i < items.length; i += limits.batchItemsMax) {
      const batch = items.slice(i, i + limits.batchItemsMax);
      if (to === this.deps.self) {
        await this.deps.replica.update(batch, rank);
        continue;
      }
      const { link, release } = this.deps.linkTo(to);
      try {
        await this.withStateRepair(to, link, () => link.update(batch, this.stopped.signal, rank));
      } finally {
        release();
      }
    }
    return true;
  }

  /** A member behind on the state is told it and asked again; one ahead hands us its state. */
  private async withStateRepair<T>(member: MemberId, link: ConfigLink, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof PeerAnswerError)) throw err;
      if (err.code === 'config_behind') {
        await link.pushConfig(this.deps.keeper.state, this.stopped.signal);
        return call();
      }
      if ((err.code === 'stale_config' || err.code === 'retired') && err.state !== undefined) {
        const s = toConfigState(err.state);
        if (typeof s !== 'string') this.deps.keeper.adopt(s);
      }
      throw new Error(`${member}: ${err.message}`);
    }
  }

  /** Calls `fn` until it succeeds or `give up` says so (then undefined), with backoff. */
  private async retrying<T>(fn: () => Promise<T>, giveUp: () => boolean): Promise<T | undefined> {
    let delay = 50;
    for (;;) {
      if (giveUp()) return undefined;
      try {
        return await fn();
      } catch (err) {
        if (giveUp()) return undefined;
        this.lastTransferProblem = (err as Error).message.slice(0, 300);
        this.deps.logger.debug('state transfer step failed; retrying', { err: this.lastTransferProblem });
        await sleep(this.deps.clock, delay);
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  private savedCursor(epoch: number): Addr | null {
    const text = this.deps.configStore.transferCursor();
    if (text === undefined) return null;
    const [e, c] = text.split(':').map(Number);
    return e === epoch && Number.isSafeInteger(c) ? c! : null;
  }

  private saveCursor(epoch: number, cursor: Addr): void {
    this.deps.configStore.saveTransferCursor(`${epoch}:${cursor}`);
  }

  private step(step: ChangeStep, fields: Record<string, unknown>): void {
    this.deps.onStep?.(step);
    const text: Record<ChangeStep, string> = {
      proposed: 'member change proposed', chosen: 'member change chosen (Paxos)', joint: 'joint phase: operations need a majority of both member sets',
      transferred: 'state transfer done', retired: 'old member set retired', failed: 'member change failed',
    };
    if (step === 'failed') this.deps.logger.warn(text[step], fields);
    else this.deps.logger.info(text[step], fields);
  }
}

function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((r) => clock.setTimeout(() => r(), ms));
}

function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = clock.setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clock.clearTimeout(timer));
}

type AnyReply = PrepareReply | AcceptReply | { type: 'decided'; state?: unknown };

function toReply(v: unknown): AnyReply | undefined {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return undefined;
  const ballot = (b: unknown): Ballot | undefined => {
    const x = b as Record<string, unknown> | null;
    return typeof x === 'object' && x !== null && Number.isSafeInteger(x['round']) && typeof x['node'] === 'string' ? { round: x['round'] as number, node: x['node'] } : undefined;
  };
  if (o['type'] === 'accepted') return { type: 'accepted' };
  if (o['type'] === 'decided') return { type: 'decided', state: o['state'] };
  if (o['type'] === 'reject') {
    const promised = ballot(o['promised']);
    return promised ? { type: 'reject', promised } : undefined;
  }
  if (o['type'] === 'promise') {
    if (o['accepted'] === null) return { type: 'promise', accepted: null };
    const a = o['accepted'] as Record<string, unknown> | null;
    const b = ballot(a?.['ballot']);
    const value = toConfigState({ kind: 'stable', current: a?.['value'] });
    if (!b || typeof value === 'string') return undefined;
    return { type: 'promise', accepted: { ballot: b, value: value.current } };
  }
  return undefined;
}

type PaxosRequest =
  | { op: 'prepare'; slot: number; ballot: Ballot }
  | { op: 'accept'; slot: number; ballot: Ballot; value: Configuration };

function toPaxosMessage(v: unknown): PaxosRequest | string {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return 'not an object';
  if (o['op'] !== 'prepare' && o['op'] !== 'accept') return 'op must be "prepare" or "accept"';
  if (!Number.isSafeInteger(o['slot']) || (o['slot'] as number) < 1) return 'slot must be a positive integer';
  const b = o['ballot'] as Record<string, unknown> | null;
  if (typeof b !== 'object' || b === null || !Number.isSafeInteger(b['round']) || typeof b['node'] !== 'string' || b['node'].length > 64) {
    return 'ballot must be {round: integer, node: string}';
  }
  const ballot = { round: b['round'] as number, node: b['node'] };
  if (o['op'] === 'prepare') return { op: 'prepare', slot: o['slot'] as number, ballot };
  const value = toConfigState({ kind: 'stable', current: o['value'] });
  if (typeof value === 'string') return `value: ${value}`;
  if (value.current.epoch !== o['slot']) return `the value for slot ${o['slot'] as number} must be configuration ${o['slot'] as number}`;
  return { op: 'accept', slot: o['slot'] as number, ballot, value: value.current };
}

/** Acceptor rows in requests of at most ACCEPTOR_PAGE_ITEMS rows and 4 MiB of accepted values (at least one row each). */
function acceptorBatches(rows: AcceptorPage['items']): AcceptorPage['items'][] {
  const batches: AcceptorPage['items'][] = [];
  let current: AcceptorPage['items'][number][] = [];
  let bytes = 0;
  for (const r of rows) {
    const size = Math.max(0, valueSize(r.row.accepted?.value ?? null));
    if (current.length > 0 && (current.length >= ACCEPTOR_PAGE_ITEMS || bytes + size > limits.batchValueBytesMax)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
