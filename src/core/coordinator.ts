import { limits } from './limits.js';
import { assert } from './assert.js';
import { JointQuorumTracker } from './quorum.js';
import { compareTags, INITIAL, maxVersioned, nextRmwTag, nextTag, tagsEqual } from './tag.js';
import { applyChange, compareBallots, sameBallot, type Acceptance, type Ballot, type Committed, type Promise_, type RmwChange, type RmwMessage } from './rmw.js';
import type {
  Addr, MemberId, OpFailure, OpResult, RegisterItem, Tag, Versioned, WriterId,
} from './types.js';

/** Runtime-assigned identity of one client operation. */
export type OpId = number;
/** query and update: ABD's two rounds (an rmw's commit is an update); prepare and accept: an rmw's Paxos phases. */
export type Phase = 'query' | 'update' | 'prepare' | 'accept' | 'commit';

/**
 * What the coordinator asks its runtime to do. The runtime executes effects in order:
 * `send-*` means "deliver to each member in `to`, retrying until answered or cancelled";
 * `cancel` means "stop every outstanding request of this op for this phase".
 */
export type Effect =
  /**
   * `values`: whether these members answer with their values or only their tags. A write's
   * query needs tags only; a read asks one member for its value and the others for tags
   * (docs/reads.md), so a big value does not travel back from every member for nothing.
   */
  | { readonly type: 'send-query'; readonly opId: OpId; readonly to: readonly MemberId[]; readonly addr: Addr; readonly values: boolean }
  | { readonly type: 'send-update'; readonly opId: OpId; readonly to: readonly MemberId[]; readonly item: RegisterItem }
  /** An rmw's prepare, accept or commit (its phase is the message's op). */
  | { readonly type: 'send-rmw'; readonly opId: OpId; readonly to: readonly MemberId[]; readonly message: RmwMessage }
  /** An rmw was preempted by a higher ballot: call onBackoffEnd after a delay that grows with `attempt`, with jitter (the runtime's Random). */
  | { readonly type: 'backoff'; readonly opId: OpId; readonly attempt: number }
  | { readonly type: 'cancel'; readonly opId: OpId; readonly phase: Phase }
  | { readonly type: 'resolve'; readonly opId: OpId; readonly result: OpResult }
  | { readonly type: 'reject'; readonly opId: OpId; readonly failure: OpFailure };

/**
 * Deliberately broken protocol variants, switched on only by the simulator's mutation tests
 * to prove that the checker catches them. Production code never sets these.
 */
export interface ProtocolMutations {
  /** Read returns after phase 1 without write-back (the seeds' one-round read). */
  readonly readWithoutWriteBack?: boolean;
  /** Read takes the fast path when this node's own replica holds the newest tag, even if the quorum disagrees. */
  readonly fastPathWhenSelfHasMax?: boolean;
  /** Quorum size used instead of the majority. */
  readonly quorumOverride?: number;
  /** A write after one that failed past its update takes its tag only from the query (seed 8320's bug). */
  readonly reuseFailedWriteTags?: boolean;
  /** A read whose value came with an older tag than the quorum's newest returns it under the newest, without fetching the newest value. */
  readonly readValueOfOlderTag?: boolean;
  /** A write that failed after sending its update says it certainly did not happen (quorum_unavailable), not outcome_unknown. */
  readonly definiteAfterUpdate?: boolean;
  /** An rmw is answered once a quorum accepted it, without the commit that makes it a register (docs/rmw.md step 5). */
  readonly rmwWithoutCommit?: boolean;
  /** An rmw stores its result under a fresh seq, as a write would, instead of its base's carstamp with rmwc+1. */
  readonly rmwFreshSeq?: boolean;
  /** An rmw's proposer builds on the highest register even when a quorum reports a higher acceptance (which may be chosen). */
  readonly rmwIgnoreHigherAcceptance?: boolean;
}

/** One member set whose quorum a phase needs. */
export interface QuorumGroup {
  readonly members: readonly MemberId[];
  readonly needed: number;
}

/**
 * The member sets whose quorums every phase needs: one in a stable configuration, the old and
 * the new during a change of the member set (docs/membership.md). Requests go to every member
 * of every set.
 */
export interface Membership {
  readonly groups: readonly QuorumGroup[];
  /**
   * Position of the configuration state these sets come from (membership/configuration.ts
   * stateRank). Answers say the state they were given under; only those given under this one
   * count. Absent: every answer counts (a member set that never changes).
   */
  readonly rank?: number;
}

export interface CoordinatorConfig {
  /** This node's member id; its own replica is reached through the same effects. */
  readonly self: MemberId;
  /** Writer id stamped into tags of writes coordinated here (node id + incarnation). */
  readonly writer: WriterId;
  /** Every member of the cluster, self included (the stable case; `membership` overrides). */
  readonly members: readonly MemberId[];
  /** Answers needed per phase: a majority of `members`. */
  readonly quorum: number;
  /** The member sets to count, when not just `members` (a change of the member set in progress). */
  readonly membership?: Membership;
  readonly mutations?: ProtocolMutations;
}

/**
 * A read's query round. `best` holds the newest tag answered (its value may be unknown: most
 * members answer tags only); `valued` the newest pair whose value came with it; `askedValues`
 * the members whose value requests are still out.
 */
interface ReadState {
  kind: 'read'; addr: Addr; phase: Phase; tracker: JointQuorumTracker; refusals: string[];
  replies: Map<MemberId, Versioned>; best: Versioned; valued?: Versioned; own?: Versioned;
  askedValues: Set<MemberId>;
  /** Everyone asked for a value this round. */
  everAsked: Set<MemberId>;
  /** Members that answered that their value of this address is damaged (their tag counts, their value never comes). */
  lost: Set<MemberId>;
  /**
   * Their tags do not count either (docs/storage-integrity.md): set for the rest of the read once
   * the newest tag's value was found nowhere; the read then needs a quorum of the others, as if
   * the damaged replicas were down for this address (the rule before issue 30, always safe).
   */
  ignoreLost: boolean;
  /** The quorum answered, but no value of its newest tag came yet: fetching it. */
  fetching: boolean;
}

/**
 * A compare-and-set or add (docs/rmw.md): Paxos prepare, then accept, then a commit that stores
 * the chosen result as a register, with a backoff between attempts when a higher ballot preempts it.
 */
interface RmwState {
  kind: 'rmw'; addr: Addr; change: RmwChange; phase: Phase | 'queued' | 'backoff'; tracker: JointQuorumTracker; refusals: string[];
  ballot: Ballot; attempt: number;
  /** Promises of this attempt's prepare: each member's acceptance, register and last commit. */
  promises: Map<MemberId, Promise_>;
  /** What accept (then commit) carries: this op's result, or a higher acceptance being finished first. */
  proposal?: RegisterItem;
  /** The ballot the proposal was first proposed at (who made it, kept by whoever finishes it), and its base's. */
  origin?: Ballot;
  baseOrigin?: Ballot | null;
  /** The proposal is another proposer's acceptance, finished before this op's own (docs/rmw.md step 2). */
  finishing: boolean;
  /** This op's own accept went out: from then on a failure is outcome_unknown. */
  ownAcceptSent: boolean;
  /** This op's own proposals by the round they began at (their origins). */
  ownProposals: Map<number, RegisterItem>;
  /** The change refused: the refusal, answered once the base it reports is on a quorum (a write-back). */
  refusal?: OpFailure;
  /** The member set's `best` for the shared code paths (the base once chosen). */
  best: Versioned;
}

type OpState =
  | ReadState
  | RmwState
  | { kind: 'write'; addr: Addr; value: string; phase: Phase | 'queued'; tracker: JointQuorumTracker; best: Versioned; item?: RegisterItem; refusals: string[] };

/**
 * The ABD coordinator as a pure state machine (SPEC section 2). It holds every in-flight
 * operation of one node. Each method takes one event and returns the effects to carry out.
 *
 * Writes to the same address through the same coordinator are serialised: two concurrent
 * writes here would otherwise observe the same maximum tag and both issue (s+1, writer)
 * with different values, breaking the "one value per tag" contract. For the same reason a
 * write that failed after sending its update (a deadline) leaves its tag behind as a floor for
 * the next write to that address here: its update may still land anywhere later, and the next
 * write's query may not see it yet (simulation seed 8320: the two writes got the same tag, and
 * reads flipped between their values).
 */
export class Coordinator {
  private readonly ops = new Map<OpId, OpState>();
  private readonly writeQueues = new Map<Addr, OpId[]>();
  /** Highest seq of a write here that failed after sending its update, per address, until a later write here succeeds. */
  private readonly unsettledSeqs = new Map<Addr, number>();
  /** The highest seq dropped from unsettledSeqs when it was full: a floor for every address. */
  private unsettledFloor = 0;
  /** Highest Paxos round used or seen per address (a hint: a forgotten one costs a preempted prepare), oldest first. */
  private readonly rounds = new Map<Addr, number>();

  /** The member sets counted now, and everyone requests go to. */
  private view: Membership;
  private targets: readonly MemberId[];

  constructor(readonly config: CoordinatorConfig) {
    assert(new Set(config.members).size === config.members.length, 'members must be distinct');
    assert(config.quorum >= 1 && config.quorum <= config.members.length, 'quorum out of range');
    this.view = config.membership ?? { groups: [{ members: config.members, needed: config.quorum }] };
    this.targets = participantsOf(this.view);
    this.checkView();
  }

  /**
   * The member sets changed (this node learned a newer configuration): new operations count
   * the new sets, and every phase in flight starts again under them, answers counted afresh,
   * so no operation completes on a quorum of a set its members know has been replaced.
   * Answers already on their way from before do not count: they carry the state they were
   * given under, and only answers of the current one do. (A new member's answer given during
   * the transition, before the state transfer reached it, must not count in the new set alone:
   * the model check of docs/membership.md found a read that returned an old value that way.)
   */
  reconfigure(view: Membership): Effect[] {
    this.view = view;
    this.targets = participantsOf(view);
    this.checkView();
    const effects: Effect[] = [];
    for (const [opId, op] of this.ops) {
      op.tracker = this.tracker();
      if (op.phase === 'queued') continue; // it starts under the new sets when its turn comes
      if (op.kind === 'rmw') {
        effects.push(...this.restartRmwPhase(opId, op));
        continue;
      }
      effects.push({ type: 'cancel', opId, phase: op.phase });
      if (op.phase === 'query') {
        if (op.kind === 'read') effects.push(...this.startReadQuery(opId, op));
        else effects.push({ type: 'send-query', opId, to: this.targets, addr: op.addr, values: false });
      } else {
        const item: RegisterItem = op.kind === 'write' ? op.item! : { addr: op.addr, tag: op.best.tag, value: op.best.value };
        effects.push({ type: 'send-update', opId, to: this.targets, item });
      }
    }
    return effects;
  }

  /** Whether an answer from `from`, given under state `rank`, counts now. */
  private counts(from: MemberId, rank: number | undefined): boolean {
    return this.targets.includes(from) && (rank === undefined || this.view.rank === undefined || rank === this.view.rank);
  }

  private checkView(): void {
    assert(this.view.groups.length >= 1, 'at least one member set');
    for (const g of this.view.groups) {
      assert(new Set(g.members).size === g.members.length, 'members must be distinct');
      assert(g.needed >= 1 && g.needed <= g.members.length, 'quorum out of range');
    }
    // A node outside its configuration (joining, or removed) keeps a view but coordinates nothing (the node refuses its ops).
    assert(this.config.membership !== undefined || this.targets.includes(this.config.self), 'self must be a member');
  }

  /** Number of operations in flight or queued. */
  get inFlight(): number {
    return this.ops.size;
  }

  /** Starts a linearizable read of `addr`. */
  read(opId: OpId, addr: Addr): Effect[] {
    assert(!this.ops.has(opId), `duplicate op id ${opId}`);
    const op: ReadState = {
      kind: 'read', addr, phase: 'query', tracker: this.tracker(), refusals: [],
      replies: new Map(), best: INITIAL, askedValues: new Set(), everAsked: new Set(), lost: new Set(),
      ignoreLost: false, fetching: false,
    };
    this.ops.set(opId, op);
    return this.startReadQuery(opId, op);
  }

  /**
   * A read's query round, from nothing: its value from one member (this node's own replica
   * when it is one: no wire), tags from the others.
   */
  private startReadQuery(opId: OpId, op: ReadState): Effect[] {
    op.tracker = this.tracker(); // a round from nothing: answers of an earlier one do not count
    op.replies = new Map();
    op.best = INITIAL;
    op.valued = undefined;
    op.own = undefined;
    op.fetching = false;
    op.lost = new Set();
    const source = this.targets.includes(this.config.self) ? this.config.self : this.targets[0]!;
    op.askedValues = new Set([source]);
    op.everAsked = new Set([source]);
    const others = this.targets.filter((m) => m !== source);
    const effects: Effect[] = [{ type: 'send-query', opId, to: [source], addr: op.addr, values: true }];
    if (others.length > 0) effects.push({ type: 'send-query', opId, to: others, addr: op.addr, values: false });
    return effects;
  }

  /** Starts a linearizable write of `value` to `addr` (queued behind earlier writes here). */
  write(opId: OpId, addr: Addr, value: string): Effect[] {
    assert(!this.ops.has(opId), `duplicate op id ${opId}`);
    this.ops.set(opId, {
      kind: 'write', addr, value, phase: 'queued', tracker: this.tracker(), best: INITIAL, refusals: [],
    });
    return this.enqueue(opId, addr);
  }

  /** Queues a write or rmw behind the earlier ones of its address here; the first starts at once. */
  private enqueue(opId: OpId, addr: Addr): Effect[] {
    const queue = this.writeQueues.get(addr);
    if (queue) {
      queue.push(opId);
      return [];
    }
    this.writeQueues.set(addr, [opId]);
    return this.startQueued(opId);
  }

  /**
   * Starts a compare-and-set or add of `addr` (docs/rmw.md), queued behind earlier writes and
   * rmws of the address here: this member's own operations on one address never compete.
   */
  rmw(opId: OpId, addr: Addr, change: RmwChange): Effect[] {
    assert(!this.ops.has(opId), `duplicate op id ${opId}`);
    this.ops.set(opId, {
      kind: 'rmw', addr, change, phase: 'queued', tracker: this.tracker(), refusals: [], ballot: { round: 0, node: this.config.writer },
      attempt: 0, promises: new Map(), finishing: false, ownAcceptSent: false, ownProposals: new Map(), best: INITIAL,
    });
    return this.enqueue(opId, addr);
  }

  /**
   * An acceptor promised `opId`'s ballot, with what it accepted before, its register and its last
   * commit. Answers after the quorum still count while the base's value is missing (the members
   * that hold it answered with the value damaged, `lost`).
   */
  onPromise(opId: OpId, from: MemberId, promise: Promise_, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (op?.kind !== 'rmw' || op.phase !== 'prepare' || !this.counts(from, rank)) return [];
    if (!op.tracker.answer(from)) return [];
    op.promises.set(from, promise);
    return op.tracker.state === 'reached' ? this.onPrepareQuorum(opId, op) : [];
  }

  /** An acceptor accepted `opId`'s proposal. */
  onAccepted(opId: OpId, from: MemberId, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (op?.kind !== 'rmw' || op.phase !== 'accept' || !this.counts(from, rank)) return [];
    if (!op.tracker.answer(from) || op.tracker.state !== 'reached') return [];
    const proposal = op.proposal!;
    if (this.config.mutations?.rmwWithoutCommit && !op.finishing && !op.refusal) {
      return this.finish(opId, { type: 'resolve', opId, result: { kind: 'rmw', addr: op.addr, tag: proposal.tag, value: proposal.value! } }, 'accept');
    }
    // Chosen: commit it as a register on a quorum, through the replica rule (step 5).
    return [{ type: 'cancel', opId, phase: 'accept' }, ...this.sendCommit(opId, op)];
  }

  /** A member stored `opId`'s commit. */
  onCommitted(opId: OpId, from: MemberId, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (op?.kind !== 'rmw' || op.phase !== 'commit' || !this.counts(from, rank)) return [];
    if (!op.tracker.answer(from) || op.tracker.state !== 'reached') return [];
    if (op.finishing) return [{ type: 'cancel', opId, phase: 'commit' }, ...this.startRmwAttempt(opId, op)]; // now its own
    if (op.refusal) {
      op.ownAcceptSent = false; // sealed out: nothing of this op can take effect any more
      return this.finish(opId, { type: 'reject', opId, failure: op.refusal }, 'commit');
    }
    const p = op.proposal!;
    return this.finish(opId, { type: 'resolve', opId, result: { kind: 'rmw', addr: op.addr, tag: p.tag, value: p.value! } }, 'commit');
  }

  /**
   * An acceptor had promised a higher ballot (or holds another proposer's promise lease): another
   * member is running Paxos on this address. The op backs off and tries a higher ballot at
   * once, rather than wait for the rest of its quorum: with one member down, the one left that
   * preempted it would keep it waiting until its deadline (simulation seeds 200 and 14 of the
   * first rmw workload). A preempted prepare had nothing accepted; a preempted accept may have
   * been, and the next attempt finds out (onPrepareQuorum).
   */
  onPreempted(opId: OpId, phase: Phase, from: MemberId, promised: Ballot, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (op?.kind !== 'rmw' || op.phase !== phase || !this.counts(from, rank)) return [];
    this.noteRound(op.addr, promised.round);
    op.attempt += 1;
    op.phase = 'backoff';
    return [{ type: 'cancel', opId, phase }, { type: 'backoff', opId, attempt: op.attempt }];
  }

  /** The backoff of a preempted rmw is over: a new attempt at a higher ballot. */
  onBackoffEnd(opId: OpId): Effect[] {
    const op = this.ops.get(opId);
    if (op?.kind !== 'rmw' || op.phase !== 'backoff') return [];
    return this.startRmwAttempt(opId, op);
  }

  /**
   * A member answered a query of `opId` with its stored pair; `withValue`: it was asked for
   * its value (else `stored.value` means nothing). Absent means no value: a caller that does
   * not say can cost a read a fetch, never make it return a value nobody vouched for.
   */
  onQueryReply(opId: OpId, from: MemberId, stored: Versioned, rank?: number, withValue = false): Effect[] {
    const op = this.ops.get(opId);
    if (!op || op.phase !== 'query' || !this.counts(from, rank)) return []; // late, duplicated, or not counted now
    if (op.kind === 'read') return this.onReadQueryReply(opId, op, from, stored, withValue);
    if (op.kind === 'rmw' || !op.tracker.answer(from)) return [];
    op.best = maxVersioned(op.best, stored);
    return op.tracker.state === 'reached' ? this.startWriteUpdate(opId, op) : [];
  }

  /**
   * Every answer is the member's state at a moment during the read, so a value fetched after
   * the quorum answered may replace that member's tag-only answer (docs/reads.md).
   */
  private onReadQueryReply(opId: OpId, op: ReadState, from: MemberId, stored: Versioned, withValue: boolean): Effect[] {
    const valued = withValue && op.askedValues.delete(from);
    if (op.fetching) {
      if (!valued) return []; // a tag-only answer after the quorum adds nothing
      this.noteReadAnswer(op, from, stored, true);
      if (op.valued && tagsEqual(op.valued.tag, op.best.tag)) return this.finishReadQuery(opId, op);
      return this.valueMissed(opId, op);
    }
    if (!op.tracker.answer(from)) return [];
    this.noteReadAnswer(op, from, stored, valued);
    return op.tracker.state === 'reached' ? this.onReadQuorum(opId, op) : [];
  }

  /**
   * A member holds `tag` for this address, but its value there failed its checksum
   * (docs/storage-integrity.md). For a write's query it is a tag like any other. For a read its
   * tag counts (the member did store a pair with it), and the value is fetched from another
   * member; if no member gives the newest tag's value, the read goes on without counting the
   * damaged replicas at all (ignoreLost).
   */
  onValueLost(opId: OpId, from: MemberId, tag: Tag, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (!op || op.phase !== 'query' || !this.counts(from, rank) || op.kind === 'rmw') return [];
    if (op.kind === 'write') return this.onQueryReply(opId, from, { tag, value: null }, rank, false);
    op.askedValues.delete(from);
    op.lost.add(from);
    if (op.ignoreLost) return op.tracker.state === 'reached' || op.fetching ? this.valueMissed(opId, op) : [];
    if (op.fetching) return this.valueMissed(opId, op);
    if (!op.tracker.answer(from)) return [];
    this.noteReadAnswer(op, from, { tag, value: null }, false);
    return op.tracker.state === 'reached' ? this.onReadQuorum(opId, op) : [];
  }

  /** A read's quorum answered its query: finish, or fetch the newest tag's value. */
  private onReadQuorum(opId: OpId, op: ReadState): Effect[] {
    if (op.valued && tagsEqual(op.valued.tag, op.best.tag)) return this.finishReadQuery(opId, op);
    if (this.config.mutations?.readValueOfOlderTag && op.valued) {
      op.valued = { tag: op.best.tag, value: op.valued.value };
      return this.finishReadQuery(opId, op);
    }
    // No member has ever stored a pair here: the initial value is known without asking.
    if (tagsEqual(op.best.tag, INITIAL.tag)) {
      op.valued = INITIAL;
      return this.finishReadQuery(opId, op);
    }
    // Fetch the newest tag's value from the members that answered it (the value source, if still out, may answer first).
    op.fetching = true;
    const holders = [...op.replies].filter(([m, v]) => tagsEqual(v.tag, op.best.tag) && !op.lost.has(m)).map(([m]) => m);
    if (holders.length === 0) return this.valueMissed(opId, op);
    for (const m of holders) {
      op.askedValues.add(m);
      op.everAsked.add(m);
    }
    return [{ type: 'send-query', opId, to: holders, addr: op.addr, values: true }];
  }

  /**
   * The newest tag's value did not come from the members asked: they answered an older pair (it
   * was overwritten meanwhile) or said theirs is damaged. While some are still out, wait. Then
   * ask the members not asked yet (one that has not answered, or answered late, may hold it);
   * then, if damaged replicas held it, read on without counting them; else start over.
   */
  private valueMissed(opId: OpId, op: ReadState): Effect[] {
    if (op.askedValues.size > 0) return [];
    // Not asked yet, and not known to hold something older: it has not answered, or answered this tag or a newer one.
    const untried = this.targets.filter((m) => !op.everAsked.has(m) && !op.lost.has(m)
      && !(op.replies.has(m) && compareTags(op.replies.get(m)!.tag, op.best.tag) < 0));
    if (untried.length > 0) {
      for (const m of untried) {
        op.askedValues.add(m);
        op.everAsked.add(m);
      }
      return [{ type: 'send-query', opId, to: untried, addr: op.addr, values: true }];
    }
    if (op.lost.size > 0 && !op.ignoreLost) op.ignoreLost = true;
    return [{ type: 'cancel', opId, phase: 'query' }, ...this.startReadQuery(opId, op)];
  }

  private noteReadAnswer(op: ReadState, from: MemberId, stored: Versioned, valued: boolean): void {
    op.replies.set(from, stored);
    op.best = maxVersioned(op.best, stored);
    if (!valued) return;
    op.valued = op.valued ? maxVersioned(op.valued, stored) : stored;
    if (from === this.config.self) op.own = stored;
  }

  /** A member acknowledged (stored or ignored as stale) the update of `opId`. */
  onUpdateAck(opId: OpId, from: MemberId, rank?: number): Effect[] {
    const op = this.ops.get(opId);
    if (!op || op.phase !== 'update' || !this.counts(from, rank)) return [];
    if (!op.tracker.answer(from) || op.tracker.state !== 'reached') return [];
    if (op.kind === 'rmw') return this.finish(opId, { type: 'reject', opId, failure: op.refusal! }, 'update'); // a refusal's write-back
    const result: OpResult = op.kind === 'read'
      ? { kind: 'read', addr: op.addr, value: op.best.value, tag: op.best.tag, fastPath: false }
      : { kind: 'write', addr: op.addr, tag: op.best.tag };
    return this.finish(opId, { type: 'resolve', opId, result }, 'update');
  }

  /** A member will never answer this phase (it has another member set). */
  onRefused(opId: OpId, phase: Phase, from: MemberId, reason: string): Effect[] {
    const op = this.ops.get(opId);
    if (!op || op.phase !== phase || !this.targets.includes(from)) return [];
    op.tracker.refuse(from);
    op.refusals.push(`${from}: ${reason}`);
    if (op.tracker.state !== 'impossible') return [];
    return this.finish(opId, {
      type: 'reject', opId,
      failure: { code: 'membership_mismatch', message: `no quorum possible, members refused: ${op.refusals.join('; ')}` },
    }, phase);
  }

  /** The deadline of `opId` passed before it completed. */
  onDeadline(opId: OpId): Effect[] {
    const op = this.ops.get(opId);
    if (!op) return [];
    const phase = activePhase(op);
    const got = op.phase === 'queued' ? 'queued behind an earlier write'
      : op.phase === 'backoff' ? `preempted by higher ballots ${op.attempt} times, backing off`
        : `${op.tracker.describe()} answered the ${op.phase} phase`;
    // The newest tag's value could not be had: its holders that answered have it damaged, the others did not answer.
    const lost = op.kind === 'read' && op.lost.size > 0
      ? `; the value of tag ${op.best.tag.seq}@${op.best.tag.writer} is damaged on ${[...op.lost].join(', ')} and no other member gave it`
      : '';
    return this.finish(opId, {
      type: 'reject', opId,
      failure: { code: 'quorum_unavailable', message: `no quorum of ${op.tracker.describeNeeded()} before the deadline (${got})${lost}` },
    }, phase);
  }

  /** Fails every operation (the node is shutting down). */
  shutdown(message = 'the node is shutting down'): Effect[] {
    const effects: Effect[] = [];
    for (const [opId, op] of [...this.ops]) {
      effects.push(...this.finish(opId, {
        type: 'reject', opId, failure: { code: 'shutting_down', message },
      }, activePhase(op)));
    }
    return effects;
  }

  private tracker(): JointQuorumTracker {
    const override = this.config.mutations?.quorumOverride;
    return new JointQuorumTracker(this.view.groups.map((g) => ({
      members: g.members, needed: override === undefined ? g.needed : Math.min(override, g.members.length),
    })));
  }

  /** The first queued operation of an address starts: a write's query, or an rmw's prepare. */
  private startQueued(opId: OpId): Effect[] {
    const op = this.ops.get(opId);
    assert(op !== undefined && op.kind !== 'read' && op.phase === 'queued', 'startQueued on a queued write or rmw');
    if (op.kind === 'rmw') return this.startRmwAttempt(opId, op);
    op.phase = 'query';
    return [{ type: 'send-query', opId, to: this.targets, addr: op.addr, values: false }];
  }

  /** The quorum answered and `op.valued` holds the newest tag's value. */
  private finishReadQuery(opId: OpId, op: ReadState): Effect[] {
    op.best = op.valued!;
    const agreed = [...op.replies.values()].every((r) => tagsEqual(r.tag, op.best.tag));
    const m = this.config.mutations;
    const selfHasMax = m?.fastPathWhenSelfHasMax === true && op.own !== undefined && tagsEqual(op.own.tag, op.best.tag);
    if (agreed || m?.readWithoutWriteBack || selfHasMax) {
      const result: OpResult = { kind: 'read', addr: op.addr, value: op.best.value, tag: op.best.tag, fastPath: true };
      return this.finish(opId, { type: 'resolve', opId, result }, 'query');
    }
    // Write-back: make the value we are about to return durable at a quorum first, so no
    // later read can return an older value (the one-round read of the seeds is not atomic).
    op.phase = 'update';
    op.tracker = this.tracker();
    const item: RegisterItem = { addr: op.addr, tag: op.best.tag, value: op.best.value };
    return [{ type: 'cancel', opId, phase: 'query' }, { type: 'send-update', opId, to: this.targets, item }];
  }

  private startWriteUpdate(opId: OpId, op: Extract<OpState, { kind: 'write' }>): Effect[] {
    op.phase = 'update';
    op.tracker = this.tracker();
    const floor = this.config.mutations?.reuseFailedWriteTags ? 0 : Math.max(this.unsettledFloor, this.unsettledSeqs.get(op.addr) ?? 0);
    const tag = nextTag(op.best.tag.seq >= floor ? op.best.tag : { seq: floor, writer: '' }, this.config.writer);
    op.best = { tag, value: op.value };
    const item: RegisterItem = { addr: op.addr, tag, value: op.value };
    op.item = item;
    return [{ type: 'cancel', opId, phase: 'query' }, { type: 'send-update', opId, to: this.targets, item }];
  }

  /** A new Paxos attempt for an rmw: a ballot above every round this node used or saw for the address. */
  private startRmwAttempt(opId: OpId, op: RmwState): Effect[] {
    const round = (this.rounds.get(op.addr) ?? 0) + 1;
    this.noteRound(op.addr, round);
    op.ballot = { round, node: this.config.writer };
    op.phase = 'prepare';
    op.tracker = this.tracker();
    op.promises = new Map();
    op.proposal = undefined;
    op.finishing = false;
    return [{ type: 'send-rmw', opId, to: this.targets, message: { op: 'prepare', addr: op.addr, ballot: op.ballot } }];
  }

  /** The member sets changed under an rmw: its phase starts again, answers counted afresh (as reconfigure does for reads and writes). */
  private restartRmwPhase(opId: OpId, op: RmwState): Effect[] {
    if (op.phase === 'backoff' || op.phase === 'queued') return [];
    const cancel: Effect = { type: 'cancel', opId, phase: op.phase };
    if (op.phase === 'prepare') return [cancel, ...this.startRmwAttempt(opId, op)];
    if (op.phase === 'accept') return [cancel, this.acceptEffect(opId, op)];
    if (op.phase === 'commit') return [cancel, this.commitEffect(opId, op)];
    return [cancel, { type: 'send-update', opId, to: this.targets, item: op.proposal! }];
  }

  /**
   * A quorum promised (docs/rmw.md step 2): finish a higher acceptance first (it may be chosen),
   * else apply the change to the highest register and propose the result at its carstamp, rmwc+1.
   * The base's value must have come with some promise (a member whose copy of it is damaged
   * gives only its tag): until one brings it, later promises are awaited.
   */
  private onPrepareQuorum(opId: OpId, op: RmwState): Effect[] {
    let base: Versioned = INITIAL;
    let acc: Acceptance | null = null;
    for (const p of op.promises.values()) {
      base = maxVersioned(base, p.register);
      if (p.accepted !== null && (acc === null || compareBallots(p.accepted.ballot, acc.ballot) > 0)) acc = p.accepted;
    }
    const withValue = [...op.promises.values()].find((p) => p.lost !== true && tagsEqual(p.register.tag, base.tag));
    if (withValue === undefined && !tagsEqual(base.tag, INITIAL.tag)) return [];
    if (withValue !== undefined) base = withValue.register;
    const cancel: Effect = { type: 'cancel', opId, phase: 'prepare' };
    const ours = acc !== null && this.isOwn(op, acc.origin);
    if (!ours && op.ownProposals.size > 0) {
      const fate = this.ownProposalsFate(op, acc);
      if (fate === 'unknown') {
        return this.finish(opId, { type: 'reject', opId, failure: { code: 'outcome_unknown', message: 'preempted by another proposer after its accept was sent, and its proposal may have been chosen and built upon' } }, 'prepare');
      }
      if (fate !== 'open') {
        // Chosen and built upon: its result is this op's. Committed again, so a quorum has it before the answer.
        op.finishing = false;
        op.proposal = op.ownProposals.get(fate.round)!;
        op.origin = { round: fate.round, node: this.config.writer };
        return [cancel, ...this.sendCommit(opId, op)];
      }
    }
    // The highest acceptance may be chosen: finish it first when it is this op's own, above
    // every register, or not known to be committed (a plain write may have gone past it; finishing
    // it then records its commit, so its proposer can learn it was chosen: ownProposalsFate).
    const known = acc !== null && this.commitAt(op, acc.tag) !== undefined;
    if (acc !== null && !this.config.mutations?.rmwIgnoreHigherAcceptance && (ours || compareTags(acc.tag, base.tag) > 0 || !known)) {
      op.finishing = !ours;
      return [cancel, ...this.sendAccept(opId, op, { addr: op.addr, tag: acc.tag, value: acc.value }, acc.origin, acc.baseOrigin)];
    }
    op.best = base;
    const outcome = applyChange(op.change, base);
    if (!outcome.ok) {
      op.refusal = { code: outcome.code, message: outcome.message, current: base };
      // An earlier own proposal was never chosen, but may still be finished by another proposer
      // later while it sits accepted somewhere. Accepting the base itself at this ballot on a
      // quorum (then committing it: a write-back) seals it out, and the refusal is definite. The
      // seal names the base's true origin (a commit record must never name another value's):
      // an rmw result's, when a commit record says it; a plain write's carstamp is never an rmw
      // result's, so this ballot can stand for it. Otherwise the outcome stays unknown.
      const sealOrigin = (base.tag.rmwc ?? 0) === 0 ? op.ballot : this.commitAt(op, base.tag)?.origin;
      if (op.ownAcceptSent && base.value !== null && sealOrigin !== undefined) {
        op.finishing = false;
        return [cancel, ...this.sendAccept(opId, op, { addr: op.addr, tag: base.tag, value: base.value }, sealOrigin, null)];
      }
      if ([...op.promises.values()].every((p) => tagsEqual(p.register.tag, base.tag))) {
        return this.finish(opId, { type: 'reject', opId, failure: op.refusal }, 'prepare');
      }
      // The refusal reports `base`: make it durable on a quorum first, as a read's write-back does.
      op.phase = 'update';
      op.tracker = this.tracker();
      op.proposal = { addr: op.addr, tag: base.tag, value: base.value };
      return [cancel, { type: 'send-update', opId, to: this.targets, item: op.proposal }];
    }
    const tag = this.config.mutations?.rmwFreshSeq ? nextTag(base.tag, this.config.writer) : nextRmwTag(base.tag);
    const proposal: RegisterItem = { addr: op.addr, tag, value: outcome.value };
    // The origin of the base, when a member that answered stored it through a commit.
    const baseCommit = this.commitAt(op, base.tag);
    op.finishing = false;
    op.ownProposals.set(op.ballot.round, proposal);
    return [cancel, ...this.sendAccept(opId, op, proposal, op.ballot, baseCommit?.origin ?? null)];
  }

  /**
   * Whether one of this op's own proposals, whose accepts went out and were preempted, was chosen
   * (docs/rmw.md, "Preempted after the accept"). At most one of them ever is: each later one was
   * proposed at a higher ballot after a quorum promised it. If proposal P was chosen, the
   * highest-ballot acceptance `acc` of every later quorum is P (then the caller finishes it: it
   * is this op's result) or one at a higher carstamp, and P's commit was recorded on a quorum
   * before anything above P's carstamp was accepted (a proposer finishes the highest acceptance
   * unless its commit is known). So, for each P: `acc` below P's carstamp, or another at it: not
   * chosen. Above: a commit record of exactly P's carstamp, or an acceptance built right on it
   * (which names its base's origin), says which value was chosen there; no record where every
   * member's commit history reaches back to P's carstamp: not chosen. Otherwise it is unknown.
   * Returns the round of the one chosen, 'open' when none was (nor can be any more: this
   * prepare's promises block their ballots), or 'unknown'.
   */
  private ownProposalsFate(op: RmwState, acc: Acceptance | null): { round: number } | 'open' | 'unknown' {
    let unknown = false;
    for (const [round, own] of op.ownProposals) {
      if (acc === null || compareTags(acc.tag, own.tag) <= 0) continue;
      const next = nextRmwTag(own.tag);
      let chosenOrigin: Ballot | null = this.commitAt(op, own.tag)?.origin ?? null;
      for (const p of op.promises.values()) {
        if (chosenOrigin === null && p.accepted !== null && p.accepted.baseOrigin !== null && tagsEqual(p.accepted.tag, next)) chosenOrigin = p.accepted.baseOrigin;
      }
      if (chosenOrigin !== null) {
        if (sameBallot(chosenOrigin, { round, node: this.config.writer })) return { round };
        continue;
      }
      const histories = [...op.promises.values()].map((p) => p.commits);
      const reachBack = histories.every((h) => h.length < limits.rmwCommitHistory || compareTags(h[0]!.tag, own.tag) <= 0);
      if (!reachBack) unknown = true;
    }
    return unknown ? 'unknown' : 'open';
  }

  /** A commit of exactly `tag` that a promise reports: the origin of the value chosen there. */
  private commitAt(op: RmwState, tag: Tag): Committed | undefined {
    for (const p of op.promises.values()) {
      const c = p.commits.find((x) => tagsEqual(x.tag, tag));
      if (c) return c;
    }
    return undefined;
  }

  private isOwn(op: RmwState, origin: Ballot): boolean {
    return origin.node === this.config.writer && op.ownProposals.has(origin.round);
  }

  private sendAccept(opId: OpId, op: RmwState, proposal: RegisterItem, origin: Ballot, baseOrigin: Ballot | null): Effect[] {
    if (!op.finishing) op.ownAcceptSent = true;
    op.proposal = proposal;
    op.origin = origin;
    op.baseOrigin = baseOrigin;
    op.phase = 'accept';
    op.tracker = this.tracker();
    return [this.acceptEffect(opId, op)];
  }

  private acceptEffect(opId: OpId, op: RmwState): Effect {
    return {
      type: 'send-rmw', opId, to: this.targets,
      message: { op: 'accept', addr: op.addr, ballot: op.ballot, item: op.proposal!, origin: op.origin!, baseOrigin: op.baseOrigin ?? null },
    };
  }

  private sendCommit(opId: OpId, op: RmwState): Effect[] {
    op.phase = 'commit';
    op.tracker = this.tracker();
    return [this.commitEffect(opId, op)];
  }

  private commitEffect(opId: OpId, op: RmwState): Effect {
    return { type: 'send-rmw', opId, to: this.targets, message: { op: 'commit', addr: op.addr, item: op.proposal!, origin: op.origin! } };
  }

  private noteRound(addr: Addr, round: number): void {
    const had = this.rounds.get(addr) ?? 0;
    this.rounds.delete(addr); // re-inserted last: the map's order is oldest first
    this.rounds.set(addr, Math.max(had, round));
    if (this.rounds.size > limits.unsettledTagsMax) this.rounds.delete(this.rounds.keys().next().value!);
  }

  private finish(opId: OpId, outcome: Effect, phase: Phase | undefined): Effect[] {
    const op = this.ops.get(opId);
    assert(op !== undefined, `finish of unknown op ${opId}`);
    this.ops.delete(opId);
    const sent = (op.kind === 'write' && op.item !== undefined) || (op.kind === 'rmw' && op.ownAcceptSent);
    if (outcome.type === 'reject' && sent && outcome.failure.code !== 'outcome_unknown' && !this.config.mutations?.definiteAfterUpdate) {
      // Its update (a write) or accept (an rmw) went out: it may be stored anywhere, now or later, so the
      // client must not take this failure for "did not happen" (docs/rmw.md, "Definite and indefinite failures").
      const what = op.kind === 'write' ? 'the write\'s update was sent' : 'its accept was sent';
      outcome = { ...outcome, failure: { code: 'outcome_unknown', message: `${what}, so it may or may not take effect: ${outcome.failure.message}` } };
    }
    const effects: Effect[] = phase ? [{ type: 'cancel', opId, phase }, outcome] : [outcome];
    if (op.kind === 'write' && op.item) this.settleTag(op.item, outcome.type === 'resolve');
    if (op.kind !== 'read') effects.push(...this.dequeueWrite(op.addr, opId));
    return effects;
  }

  /**
   * A write that sent its update finished. Failed: its tag may still land, so the next write to
   * the address here must go above it. Succeeded: its tag is on a quorum, so every later query
   * sees at least it, and a floor below it is no longer needed. Bounded: past
   * limits.unsettledTagsMax addresses the oldest entry becomes a floor for all addresses.
   */
  private settleTag(item: RegisterItem, ok: boolean): void {
    const pending = this.unsettledSeqs.get(item.addr);
    if (ok) {
      if (pending !== undefined && pending <= item.tag.seq) this.unsettledSeqs.delete(item.addr);
      return;
    }
    this.unsettledSeqs.delete(item.addr); // re-inserted last: the map's order is oldest first
    this.unsettledSeqs.set(item.addr, Math.max(pending ?? 0, item.tag.seq));
    if (this.unsettledSeqs.size > limits.unsettledTagsMax) {
      const [oldest, seq] = this.unsettledSeqs.entries().next().value!;
      this.unsettledSeqs.delete(oldest);
      this.unsettledFloor = Math.max(this.unsettledFloor, seq);
    }
  }

  private dequeueWrite(addr: Addr, opId: OpId): Effect[] {
    const queue = this.writeQueues.get(addr);
    assert(queue !== undefined, `write queue for ${addr} exists`);
    const wasHead = queue[0] === opId;
    const index = queue.indexOf(opId);
    assert(index >= 0, `op ${opId} is in the write queue of ${addr}`);
    queue.splice(index, 1);
    if (queue.length === 0) {
      this.writeQueues.delete(addr);
      return [];
    }
    return wasHead ? this.startQueued(queue[0]!) : [];
  }
}

/** The phase whose requests are out, if any. */
function activePhase(op: OpState): Phase | undefined {
  return op.phase === 'queued' || op.phase === 'backoff' ? undefined : op.phase;
}

/** Every member of every set, each once, in order. */
function participantsOf(view: Membership): readonly MemberId[] {
  return [...new Set(view.groups.flatMap((g) => g.members))];
}
