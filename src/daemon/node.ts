import { PEER_PROTOCOL } from '../transport/wire.js';
import { Coordinator, type Membership, type ProtocolMutations } from '../core/coordinator.js';
import { majority } from '../core/quorum.js';
import { Recovery, type RecoveryMutations } from '../core/recovery.js';
import type { Addr, MemberId, ReadResult, RmwResult, WriteResult } from '../core/types.js';
import type { AcceptorMutations, RmwChange } from '../core/rmw.js';
import { plural } from '../format.js';
import type { Logger } from '../log/logger.js';
import type { Clock, Random, Timer } from '../platform/clock.js';
import type { Readiness } from '../server/node-api.js';
import type { RegisterStore } from '../storage/register-store.js';
import { PeerChannel, type ChannelMutations } from '../transport/peer-channel.js';
import { LocalLink, type MemberLink } from '../transport/peer-link.js';
import type { PingReply } from '../transport/wire.js';
import { FailureDetector } from './failure-detector.js';
import { markInitialized, type Identity } from './identity.js';
import { QuorumWatch } from './quorum-watch.js';
import { RecoveryRun, SERVED_META_KEY } from './recovery-runner.js';
import { RepairRunner, type RepairMutations, type RepairSources } from './repair-runner.js';
import { CATCHUP_PACE, CatchUpRunner, type CatchUpPace } from './catchup-runner.js';
import { Pullers, type PullerLag } from './pullers.js';
import { redundancy, type Redundancy } from './redundancy.js';
import type { CatchUpMutations, ChangeFeedPage, PeerLag } from '../core/catchup.js';
import { Replica } from './replica.js';
import { Runtime, type OpObserver, type RuntimeMutations } from './runtime.js';
import { clusterVerdict, memberConditions, quorumHint, type ClusterVerdict } from './status.js';
import { limits } from '../core/limits.js';
import { sourceGroup } from '../core/recovery.js';
import { NotMemberError } from '../errors.js';
import { stateRank, type ConfigState } from '../membership/configuration.js';
import { describeState, toConfigState } from '../membership/config-store.js';
import { membershipOf } from '../membership/gate.js';
import { participantAddresses, type MembershipKeeper } from '../membership/keeper.js';
import type { ChannelDeps } from '../transport/peer-channel.js';
import { PeerAnswerError, type ConfigLink } from '../transport/peer-link.js';

/** What the node's logic needs of the configuration (the daemon's Config has more). */
export interface NodeConfig {
  readonly self: MemberId;
  /** Every member, self included. */
  readonly members: readonly MemberId[];
  readonly opDeadlineMs: number;
  readonly heartbeatIntervalMs: number;
}

/** Broken variants for the simulator's mutation tests; production passes none. */
export type NodeMutations = ProtocolMutations & ChannelMutations & RuntimeMutations & RecoveryMutations & RepairMutations & CatchUpMutations & AcceptorMutations & {
  /** During a change, operations count only the new member set's majority (not both). */
  readonly onlyNewQuorumInTransition?: boolean;
};

/**
 * Everything non-deterministic enters a node through these (docs: README "Correctness"): the
 * clock and randomness, the links to the other members, the store. The daemon passes the real
 * ones (process clock, HttpLinks, SqliteStore); the simulator passes a virtual clock, a seeded
 * random, simulated links and a MemoryStore, and so runs this very wiring.
 */
export interface NodeDeps {
  readonly config: NodeConfig;
  readonly identity: Identity;
  readonly store: RegisterStore;
  /** One link per other member (of the stored configuration, when there is `membership`). */
  readonly links: readonly MemberLink[];
  /**
   * The member set as configurations with epochs (docs/membership.md): the node counts its
   * quorums, stamps its peer requests and checks those it serves by it, and makes links to
   * members that join with `linkTo`. Without it (the simulator today) the member set is
   * `config.members`, fixed.
   */
  readonly membership?: { readonly keeper: MembershipKeeper; readonly linkTo: (address: MemberId) => ConfigLink };
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly clusterId: string;
  readonly version: string;
  /** Told about every finished operation (metrics). */
  readonly onOp?: OpObserver;
  /** Told about each compare-and-set or add attempt preempted by another member's ballot (metrics). */
  readonly onRmwRetry?: (op: 'cas' | 'add') => void;
  /** How catch-up paces itself (default CATCHUP_PACE; the simulator varies it). */
  readonly catchupPace?: CatchUpPace;
  readonly mutations?: NodeMutations;
}

/**
 * One shmem node without its HTTP edge: the replica role, the coordinator and its runtime,
 * a channel per member, heartbeats, wiped-dir recovery, register repair and the quorum log,
 * wired in order. `start()` begins the background work; `stop()` drains and stops it.
 */
export class ShmemNode {
  readonly replica: Replica;
  /** The wiped-dir recovery running (a new one starts when the member set changes during it). */
  recovery: Recovery | undefined;
  readonly runtime: Runtime;
  /** Links and channels to the other members, by address (the local one is not here). */
  private readonly linkMap = new Map<MemberId, MemberLink>();
  private readonly channelMap = new Map<MemberId, PeerChannel>();
  private readonly channelDeps: ChannelDeps;
  readonly detector: FailureDetector;
  readonly repair: RepairRunner;
  /** Background catch-up from every other member (docs/catch-up.md), and what their pulls say of them. */
  readonly catchup: CatchUpRunner;
  readonly pullers: Pullers;
  private readonly quorumWatch: QuorumWatch;
  private stopRecovery = new AbortController();
  /** The recovery being carried out (an operator's accepted loss goes to it). */
  private recoveryRun: RecoveryRun | undefined;
  /** The last beyond-the-budget state logged (a change is logged once). */
  private beyondBudgetLogged = false;
  private started = false;
  private stopped = false;
  readonly startedMs: number;
  /** When this process started, on the monotonic clock (the recovery fence counts from it). */
  private readonly startedMonoMs: number;

  constructor(private readonly deps: NodeDeps) {
    const { config, identity, store, links, clock, random, logger } = deps;
    this.startedMs = clock.wallNow();
    this.startedMonoMs = clock.now();
    const keeper = deps.membership?.keeper;
    const members = keeper ? participantAddresses(keeper.state) : config.members;
    const quorum = majority(members.length);

    // The replica role; it stays silent while a new or wiped data dir is being recovered. A node
    // outside the member set has nothing to recover: if it is added, the state transfer fills it.
    const recover = !identity.initialized && (keeper?.isMember ?? true);
    if (!identity.initialized && !recover) markInitialized(store);
    this.replica = new Replica(store, recover, keeper, deps.mutations);
    this.replica.now = () => clock.now();
    // Enough sources of every member set counted now (a change in progress counts two).
    const sources = keeper ? this.repairSources(keeper.state) : members;
    this.recovery = recover ? new Recovery(config.self, sources, quorum, config.opDeadlineMs, deps.mutations, this.knowsServed()) : undefined;
    // While it recovers, its pages say whether it knows the cluster has served (docs/recovery.md).
    this.replica.servedKnown = () => this.recovery?.served ?? true;

    // The pure protocol core and the runtime that carries out its effects.
    const coordinator = new Coordinator({
      self: config.self, writer: identity.writer, members, quorum, mutations: deps.mutations,
      ...(keeper ? { membership: this.countedSets(keeper.state) } : {}),
    });
    this.runtime = new Runtime(coordinator, config.opDeadlineMs, logger, deps.onOp, clock, deps.mutations, random);
    this.runtime.explainQuorum = () => quorumHint(this.verdict());
    if (deps.onRmwRetry) this.runtime.onRmwRetry = deps.onRmwRetry;
    // A recovering member probes whether we coordinate anything, and how long our deadline is.
    this.replica.coordinatorFacts = () => ({ busy: this.runtime.inFlight > 0, opDeadlineMs: config.opDeadlineMs });

    // One channel per member: the local replica without a network hop, the others over their links.
    // Every request names the configuration state it is sent under; answers of another state come back here.
    this.channelDeps = {
      clock, random, mutations: deps.mutations,
      ...(keeper ? {
        membership: {
          rank: () => keeper.rank,
          learned: (state: unknown, from: MemberId) => this.learn(state, from),
          behind: (member: MemberId) => this.tell(member),
        },
      } : {}),
    };
    this.runtime.addChannel(new PeerChannel(new LocalLink(config.self, this.replica), this.runtime, this.channelDeps));
    for (const l of links) this.addMember(l);

    // Heartbeats for status, readiness and logs (never for safety).
    this.detector = new FailureDetector(links, config.heartbeatIntervalMs, logger, clock);
    // Registers that fail their checksum are repaired from the other members.
    this.repair = new RepairRunner(store, links, members.length, quorum, logger, clock, config.opDeadlineMs, deps.mutations);
    this.repair.membership = this.answersUnderState();
    if (keeper) this.repair.setPeers(links, this.repairSources(keeper.state));
    // Every replica pulls what it missed from the others; not while it recovers (recovery copies).
    // A node outside the member set pulls nothing: it answers nothing, and has nothing to keep current.
    this.catchup = new CatchUpRunner(store, keeper && !keeper.isMember ? [] : links, logger, clock, deps.catchupPace ?? CATCHUP_PACE, deps.mutations);
    this.catchup.membership = this.answersUnderState();
    this.catchup.paused = () => this.replica.recovering;
    this.catchup.foreground = () => this.runtime.opsStarted;
    this.pullers = new Pullers(store, clock);
    this.quorumWatch = new QuorumWatch(logger, limits.downAfterMs, () => clock.now());
    keeper?.onChange((next, previous) => this.onConfigChange(next, previous));
  }

  /** The member sets the coordinator counts in state `s`, by address. */
  private countedSets(s: ConfigState): Membership {
    if (this.deps.mutations?.onlyNewQuorumInTransition && s.kind === 'joint') return { ...membershipOf({ kind: 'stable', current: s.next }, (m) => m.address), rank: stateRank(s) };
    return membershipOf(s, (m) => m.address);
  }

  /** The channels to the other members (the local one is not in this list). */
  get channels(): readonly PeerChannel[] {
    return [...this.channelMap.values()];
  }

  /** The links to the other members, by address. */
  link(member: MemberId): MemberLink | undefined {
    return this.linkMap.get(member);
  }

  links(): readonly MemberLink[] {
    return [...this.linkMap.values()];
  }

  /** Closes every link (after stop()). */
  closeLinks(): void {
    for (const l of this.linkMap.values()) l.close();
  }

  /** Majority of the members (in a transition: of both sets together; status only, never safety). */
  get quorum(): number {
    const keeper = this.deps.membership?.keeper;
    return majority(keeper ? participantAddresses(keeper.state).length : this.deps.config.members.length);
  }

  private addMember(link: MemberLink): void {
    this.linkMap.set(link.member, link);
    const channel = new PeerChannel(link, this.runtime, this.channelDeps);
    this.channelMap.set(link.member, channel);
    this.runtime.addChannel(channel);
  }

  /**
   * A newer configuration state is durable here: links and channels to members that joined,
   * phases in flight restarted under the new quorums, and the links to members no longer in
   * any counted set closed.
   */
  private onConfigChange(next: ConfigState, previous: ConfigState): void {
    const { config, logger } = this.deps;
    const others = participantAddresses(next).filter((a) => a !== config.self);
    for (const a of others) if (!this.linkMap.has(a)) this.addMember(this.deps.membership!.linkTo(a));
    this.runtime.reconfigure(this.countedSets(next));
    for (const [a, l] of [...this.linkMap]) {
      if (others.includes(a)) continue;
      this.runtime.removeChannel(a);
      this.channelMap.delete(a);
      this.linkMap.delete(a);
      l.close();
    }
    const links = [...this.linkMap.values()];
    this.detector.setLinks(links);
    this.repair.setPeers(links, this.repairSources(next));
    const retired = !participantAddresses(next).includes(config.self);
    this.catchup.setPeers(retired ? [] : links);

    // A node out of the member set coordinates nothing: its operations in flight fail now (the
    // client tries another endpoint) rather than at their deadline.
    if (retired) this.runtime.abandon(`${config.self} was removed from the member set (${describeState(next)}); use another endpoint`);
    logger.info(retired ? 'this node is no longer a member: it stops answering as a replica and coordinating' : 'member set changed', {
      from: describeState(previous), to: describeState(next),
    });
    this.startRecoveryAgain(next);
    this.onMembersChanged(next, previous);
  }

  /** Told after every change of the member set (metrics, the daemon's links' credentials). */
  onMembersChanged: (next: ConfigState, previous: ConfigState) => void = () => {};

  /** A member answered with its state: adopt it if it is newer and valid. */
  learn(state: unknown, from: MemberId): void {
    const keeper = this.deps.membership?.keeper;
    if (!keeper) return;
    const parsed = toConfigState(state);
    if (typeof parsed === 'string') {
      this.deps.logger.warn('a member answered with a configuration state that is not valid; ignored', { peer: from, problem: parsed });
      return;
    }
    try {
      keeper.adopt(parsed);
    } catch (err) {
      this.deps.logger.error('refused a configuration state from a member', { peer: from, err: (err as Error).message });
    }
  }

  /** Pushes of our state to members found behind, by member: one at a time each, renewed when older than a retry. */
  private readonly pushes = new Map<MemberId, { readonly startedMs: number; readonly done: Promise<void> }>();

  /**
   * Sends our state to `member`, which is behind (config_behind); the caller then sends its
   * requests again. It waits at most one retry backoff: a push lost on the way (answered only
   * at its deadline, seconds later) must not hold the requests that found the member behind
   * until their operations' deadlines (simulation seed 290 with old/new splits). Requests that
   * find the member still behind share the push in flight, or start another once it is that old.
   */
  async tell(member: MemberId): Promise<void> {
    const { clock } = this.deps;
    let push = this.pushes.get(member);
    if (!push || clock.now() - push.startedMs >= limits.retryBackoffMsMax) {
      const started = { startedMs: clock.now(), done: this.pushState(member) };
      this.pushes.set(member, started);
      void started.done.finally(() => {
        if (this.pushes.get(member) === started) this.pushes.delete(member);
      });
      push = started;
    }
    let timer: Timer | undefined;
    await Promise.race([push.done, new Promise<void>((r) => (timer = clock.setTimeout(r, limits.retryBackoffMsMax)))]);
    clock.clearTimeout(timer);
  }

  private async pushState(member: MemberId): Promise<void> {
    const link = this.linkMap.get(member) as ConfigLink | undefined;
    const keeper = this.deps.membership?.keeper;
    if (!link || !keeper) return;
    try {
      const answer = await link.pushConfig(keeper.state, new AbortController().signal);
      this.learn(answer.state, member);
    } catch (err) {
      this.deps.logger.debug('could not tell a member the configuration state', { peer: member, err: (err as Error).message });
      await new Promise<void>((r) => this.deps.clock.setTimeout(() => r(), limits.retryBackoffMsMin));
    }
  }

  /** A linearizable read through this node (the coordinator role). */
  read(addr: Addr): Promise<ReadResult> {
    const refused = this.notMember();
    return refused ? Promise.reject(refused) : this.runtime.read(addr);
  }

  /** A linearizable write through this node. */
  write(addr: Addr, value: string): Promise<WriteResult> {
    const refused = this.notMember();
    return refused ? Promise.reject(refused) : this.runtime.write(addr, value);
  }

  /** A compare-and-set or add through this node (docs/rmw.md). */
  rmw(addr: Addr, change: RmwChange): Promise<RmwResult> {
    const refused = this.notMember();
    return refused ? Promise.reject(refused) : this.runtime.rmw(addr, change);
  }

  /** A node outside its configuration coordinates nothing: it could not count itself in a quorum. */
  private notMember(): NotMemberError | undefined {
    const keeper = this.deps.membership?.keeper;
    if (!keeper || keeper.isMember) return undefined;
    return new NotMemberError(`${this.deps.config.self} is not a member of ${describeState(keeper.state)}`, {
      hint: 'use another endpoint; add this node with `shmem member add`, or it was removed',
    });
  }

  /** Begins heartbeats, repair, the quorum log and, for a new or wiped data dir, recovery. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { clock, logger, store, links } = this.deps;
    this.detector.start();
    this.repair.start();
    const watch = (): void => {
      if (this.stopped) return;
      this.quorumWatch.observe(this.verdict());
      this.watchRecovery();
      clock.setTimeout(watch, this.deps.config.heartbeatIntervalMs);
    };
    clock.setTimeout(watch, this.deps.config.heartbeatIntervalMs);
    const recovery = this.recovery;
    if (!recovery) {
      this.catchup.start();
      return;
    }
    if (recovery.needed > 0) {
      logger.info(`empty data dir: copying the registers of ${recovery.needed} other members before answering as a replica (a new cluster is ready once they have started)`, {
        sourcesNeeded: recovery.needed,
      });
    }
    void links;
    this.runRecoveryNow(recovery);
  }

  /**
   * Runs `recovery` to its end. Its pages are asked under this node's configuration state: a
   * member that holds a newer one answers with it (and is not copied), this node adopts it,
   * and onConfigChange starts a new recovery over the new member set (startRecoveryAgain).
   */
  private runRecoveryNow(recovery: Recovery): void {
    const { clock, logger, store } = this.deps;
    const signal = this.stopRecovery.signal;
    const membership = this.answersUnderState();
    const run = new RecoveryRun(recovery, [...this.linkMap.values()], store, logger, signal, this.startedMonoMs, clock, membership);
    this.recoveryRun = run;
    run.done.then((outcome) => {
      if (signal.aborted) return;
      // The copied members' Paxos votes first: this member votes again from the moment it answers.
      this.replica.paxos?.recovered(outcome.acceptors);
      markInitialized(store);
      this.replica.recovering = false;
      this.recoveryRun = undefined;
      // Catch-up goes on from where the copy ended (its positions), and compares the rest.
      void Promise.all(outcome.positions.map((p) => store.putIfNewer([], p))).catch(() => {}).then(() => {
        if (!this.stopped) this.catchup.start();
      });
      if (outcome.lossAccepted) {
        logger.error(`recovery finished with the loss accepted by an operator: copied ${plural(outcome.registersCopied, 'register')}; writes acknowledged only by members whose data is gone are lost; answering as a replica`, {
          sources: outcome.sources, gaveUp: outcome.gaveUp,
        });
      } else if (!outcome.newCluster) {
        logger.info(`recovery complete: copied ${plural(outcome.registersCopied, 'register')}; answering as a replica`, { sources: outcome.sources });
      } else {
        logger.info('new cluster: every other member is empty and none has seen the cluster serve, so nothing can have been lost; answering as a replica', { sources: outcome.sources, fenced: outcome.fenced });
      }
    }, (err: unknown) => {
      if (signal.aborted) return; // stopping (the store closed under it), or started again
      logger.error('recovery failed', { err: String(err) });
      this.onRecoveryFailed(err);
    });
  }

  /**
   * An operator accepts the loss of the recovering members' data (POST /recovery/accept-data-loss,
   * docs/recovery.md): refused, with the reason, unless this node is recovering beyond the budget.
   */
  acceptDataLoss(by: string): { accepted: boolean; reason?: string; state: ReturnType<ShmemNode['recoveryStatus']> } {
    const run = this.recoveryRun;
    const reason = !this.replica.recovering || !run ? 'this member is not recovering' : run.acceptLoss();
    if (reason === undefined) {
      this.deps.logger.error('an operator accepted the loss of the recovering members\' data: this member finishes its recovery with what the members that still have data hold', {
        by, ...this.recoveryLogFields(),
      });
    } else {
      this.deps.logger.warn('refused to accept data loss', { by, reason });
    }
    return { accepted: reason === undefined, ...(reason !== undefined ? { reason } : {}), state: this.recoveryStatus() };
  }

  /** The recovery as /status shows it (null when this node is not recovering). */
  recoveryStatus(): { sourcesNeeded: number; sourcesDone: readonly string[]; phase: string; recoveringOthers: readonly string[]; beyondBudget: boolean; served: boolean; explanation: string | null } | null {
    const r = this.recovery;
    if (!r || !this.replica.recovering) return null;
    const s = r.state();
    return {
      sourcesNeeded: s.needed, sourcesDone: s.sources, phase: s.phase, recoveringOthers: s.recoveringOthers,
      beyondBudget: s.beyondBudget, served: s.served, explanation: s.beyondBudget ? this.beyondBudgetText() : null,
    };
  }

  /** "the data of 2 of 3 members is gone (…)": what an operator must do about it. */
  private beyondBudgetText(): string {
    const s = this.recovery!.state();
    const lost = [...s.recoveringOthers, `${this.deps.config.self} (this node)`];
    return `the data of ${lost.length} of ${s.members} members is gone (${lost.join(', ')} are recovering): no member can prove it holds every acknowledged write; ` +
      'restore a backup (shmem restore) into one of them, or accept the loss with shmem recover --accept-data-loss';
  }

  private recoveryLogFields(): Record<string, unknown> {
    const s = this.recovery?.state();
    return s ? { phase: s.phase, sourcesNeeded: s.needed, sourcesDone: s.sources, recoveringOthers: s.recoveringOthers } : {};
  }

  /** Logs once when the recovery goes beyond the budget, and once when it no longer is. */
  private watchRecovery(): void {
    const beyond = this.replica.recovering && this.recovery?.beyondBudget === true;
    if (beyond === this.beyondBudgetLogged) return;
    this.beyondBudgetLogged = beyond;
    if (beyond) this.deps.logger.error(this.beyondBudgetText(), this.recoveryLogFields());
    else if (this.replica.recovering) this.deps.logger.info('recovery is no longer beyond the fault budget: enough members answer as replicas again', this.recoveryLogFields());
  }

  /**
   * Whether this node already knows the cluster has served (docs/recovery.md): it holds registers
   * (a lost WAL, a restored backup), a member set past the founding one, or the mark an earlier
   * start of its recovery kept.
   */
  private knowsServed(): boolean {
    const { store } = this.deps;
    const keeper = this.deps.membership?.keeper;
    const epochPast = keeper !== undefined && (keeper.state.kind === 'joint' || keeper.state.current.epoch > 1);
    return store.getMeta(SERVED_META_KEY) === '1' || store.stats().addresses > 0 || epochPast;
  }

  /**
   * What recovery and repair need to ask under this node's configuration state: its rank, and
   * what to do with an answer of another state (learn a newer one, or tell a member that is behind).
   */
  private answersUnderState(): { rank(): number; answered(err: unknown, from: MemberId): Promise<void> } | undefined {
    const keeper = this.deps.membership?.keeper;
    return keeper ? {
      rank: () => keeper.rank,
      answered: async (err: unknown, from: MemberId): Promise<void> => {
        if (!(err instanceof PeerAnswerError)) return;
        if ((err.code === 'stale_config' || err.code === 'retired') && err.state !== undefined) this.learn(err.state, from);
        if (err.code === 'config_behind') await this.tell(from);
      },
    } : undefined;
  }

  /**
   * How many members a damaged register is repaired from in state `s`: N-Q+1 of the other
   * members of each counted set (of a set this node is not in, N-Q+1 of all its members), the
   * rule of core/recovery.ts per set. In a transition both, as for a wiped member's recovery.
   */
  private repairSources(s: ConfigState): RepairSources {
    const self = this.deps.config.self;
    return (s.kind === 'joint' ? [s.current, s.next] : [s.current]).map((c) => sourceGroup(self, c.members.map((m) => m.address)));
  }

  /**
   * The member set changed while this node recovers: what it must copy is N-Q+1 of the members
   * of the new set, so recovery starts again over them (pages already stored stay: copying is
   * idempotent; the fence still counts from the process start). In a transition it copies
   * enough of each set (a member that joined holds none of the old set's writes until its
   * transfer: simulation seed 6467 with --reconfigure counted one and lost an acknowledged write).
   * every other member of both sets, more than either needs.
   */
  private startRecoveryAgain(next: ConfigState): void {
    const { config, logger } = this.deps;
    if (!this.replica.recovering || this.stopped || !this.started) return;
    this.stopRecovery.abort();
    this.stopRecovery = new AbortController();
    const members = participantAddresses(next);
    if (!members.includes(config.self)) {
      // Not a member any more: nothing to recover for (if it is added again, the transfer fills it).
      this.recovery = undefined;
      markInitialized(this.deps.store);
      this.replica.recovering = false;
      this.catchup.start();
      logger.info('the member set changed during recovery and no longer has this node: recovery stopped', { state: describeState(next) });
      return;
    }
    const served = this.recovery?.served === true || this.knowsServed();
    this.recovery = new Recovery(config.self, this.repairSources(next), 0, config.opDeadlineMs, this.deps.mutations, served);
    logger.info('the member set changed during recovery: copying from the new one', { state: describeState(next), sourcesNeeded: this.recovery.needed });
    this.runRecoveryNow(this.recovery);
  }

  /** Called when recovery fails for good (the daemon exits 70). */
  onRecoveryFailed: (err: unknown) => void = () => {};

  /** A refresh of the members counted out, shared by callers meanwhile; when the last one ended. */
  private refreshing: Promise<void> | undefined;
  private refreshedAtMs = Number.NEGATIVE_INFINITY;

  /**
   * The verdict status and readiness show: before it counts a member out, the members it would
   * count out are asked once more (at most limits.verdictRefreshMs, at most once per
   * limits.verdictRefreshMinIntervalMs, callers meanwhile share it), so it never says "no
   * quorum" on a heartbeat older than the moment a member started or finished recovering.
   */
  async freshVerdict(): Promise<ClusterVerdict> {
    const v = this.verdict();
    const doubted = v.unavailable.filter((u) => u.member !== this.deps.config.self).map((u) => u.member);
    if (v.code === 'ok' || doubted.length === 0) return v;
    const { clock } = this.deps;
    if (this.refreshing === undefined && clock.now() - this.refreshedAtMs >= limits.verdictRefreshMinIntervalMs) {
      this.refreshing = this.detector.refresh(doubted, limits.verdictRefreshMs).finally(() => {
        this.refreshing = undefined;
        this.refreshedAtMs = clock.now();
      });
    }
    if (this.refreshing !== undefined) await this.refreshing;
    return this.verdict();
  }

  /** What reads and writes through this node can use now, from the last heartbeats (hints, the quorum log). */
  verdict(): ClusterVerdict {
    return clusterVerdict(memberConditions({
      member: this.deps.config.self, recovering: this.replica.recovering, storeOk: this.deps.store.health().ok,
    }, this.detector.health()), this.quorum);
  }

  async readiness(accepting: boolean): Promise<Readiness> {
    const v = await this.freshVerdict();
    const recovery = this.recovery;
    const checks = [
      `${accepting ? '[+]' : '[-]'}node ${accepting ? 'ok' : 'shutting down'}`,
      storeCheck(this.deps.store, this.deps.clock),
      !this.replica.recovering ? '[+]replica ok'
        : recovery?.beyondBudget ? `[-]replica recovering: ${this.beyondBudgetText()}`
        : recovery?.phase === 'probe'
          ? '[-]replica recovering: waiting one operation deadline before copying the other members (writes in flight must finish first)'
          : recovery?.phase === 'accept' ? '[-]replica recovering: finishing with the loss accepted by an operator'
          : `[-]replica recovering: ${recovery?.sources.length ?? 0}/${recovery?.needed ?? 0} other members copied`,
      `${v.hasQuorum ? '[+]' : '[-]'}quorum ${v.hasQuorum ? 'ok' : 'unavailable'}: ${v.text.replace(/^[^:]*: /, '')}`,
    ];
    const keeper = this.deps.membership?.keeper;
    if (keeper) {
      checks.push(keeper.isMember
        ? `[+]member of ${describeState(keeper.state)}`
        : `[-]not a member of ${describeState(keeper.state)}: waiting for \`shmem member add ${this.deps.config.self}\` (or it was removed)`);
    }
    const member = keeper?.isMember ?? true;
    return { ready: accepting && member && !this.replica.recovering && v.hasQuorum && this.deps.store.health().ok, checks };
  }

  /** A page of this replica's change feed for a member (docs/catch-up.md); tags-only requests tell how far behind the asker is. */
  changes(since: number, limit: number, values: boolean, rank: number | undefined, from: MemberId, log: string | undefined): ChangeFeedPage {
    const page = this.replica.changes(since, limit, values, rank);
    if (!values && from !== '') this.pullers.noteAsked(from, since, log);
    return page;
  }

  /** How far each other member is behind this node's changes (from their catch-up requests). */
  peersBehind(): PullerLag[] {
    const keeper = this.deps.membership?.keeper;
    const all = keeper ? participantAddresses(keeper.state) : this.deps.config.members;
    return this.pullers.lag(all.filter((a) => a !== this.deps.config.self));
  }

  /** Catch-up as /status shows it (docs/catch-up.md). */
  catchupStatus(): { log: string; head: number; behind: PeerLag[]; peersBehind: PullerLag[]; redundancy: Redundancy } {
    const behind = this.catchup.lag();
    const peersBehind = this.peersBehind();
    return { ...this.deps.store.changeLog(), behind, peersBehind, redundancy: redundancy(this.deps.config.self, behind, peersBehind) };
  }

  ping(): PingReply {
    return {
      member: this.deps.config.self, nodeId: this.deps.identity.nodeId, version: this.deps.version,
      clusterId: this.deps.clusterId, recovering: this.replica.recovering, protocol: PEER_PROTOCOL,
    };
  }

  /** Stops taking operations, drains for up to `drainMs`, stops background work and the links' streams. */
  async stop(drainMs: number): Promise<void> {
    this.stopped = true;
    this.detector.stop();
    this.repair.stop();
    this.catchup.stop();
    this.stopRecovery.abort();
    await this.runtime.shutdown(drainMs);
  }
}

/** The readiness line of the store: ok, or why commits fail and since when. */
function storeCheck(store: RegisterStore, clock: Clock): string {
  const h = store.health();
  const damaged = store.stats().damaged;
  if (h.ok) return damaged > 0 ? `[+]store ok (${plural(damaged, 'damaged register')} being repaired)` : '[+]store ok';
  return `[-]store unavailable for ${Math.round((clock.wallNow() - h.sinceMs) / 1000)} s: ${h.reason}`;
}
