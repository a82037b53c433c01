import { Coordinator, type Effect, type Membership, type OpId, type Phase } from '../core/coordinator.js';
import { limits } from '../core/limits.js';
import type { Ballot, Promise_, RmwChange } from '../core/rmw.js';
import type { Addr, MemberId, OpFailure, OpResult, ReadResult, RmwResult, Tag, Versioned, WriteResult } from '../core/types.js';
import {
  ChangeRefusedError, MembershipMismatchError, OutcomeUnknownError, QuorumUnavailableError, ShuttingDownError, type ShmemError,
} from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { OpKind, OpOutcome, OpPhases } from '../metrics/metrics.js';
import type { ChannelSink, PeerChannel } from '../transport/peer-channel.js';
import { realClock, realRandom, type Clock, type Random, type Timer } from '../platform/clock.js';
import { LatencyWindow } from './latency-window.js';

interface Waiter {
  readonly kind: OpKind;
  readonly addr: Addr;
  readonly startedMs: number;
  /** When its first update went out (a write's second phase, a read's write-back): where the query phase ended. */
  updateSentMs?: number;
  readonly resolve: (r: OpResult) => void;
  readonly reject: (e: ShmemError) => void;
  readonly timer: Timer;
}

/** Operation counters and recent latencies for /status. */
export interface OpStats {
  readonly reads: number;
  readonly writes: number;
  /** Compare-and-sets and adds that succeeded, those refused by their change (409), and attempts preempted and retried. */
  readonly rmws: number;
  readonly rmwRefused: number;
  readonly rmwRetries: number;
  readonly fastPathReads: number;
  readonly failures: number;
  readonly quorumFailures: number;
  readonly inFlight: number;
  readonly readLatencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly writeLatencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly rmwLatencyMs: { readonly p50: number | null; readonly p99: number | null };
}

/** Deliberately broken variants, switched on only by the simulator's mutation tests. */
export interface RuntimeMutations {
  /** A read's caller is answered once its write-back is queued, and the write-back is cancelled (nobody waits for it). */
  readonly answerReadAtWriteBack?: boolean;
}

/** Told about every finished operation (metrics). */
export type OpObserver = (op: OpKind, outcome: OpOutcome, seconds: number, fastPath: boolean, phases?: OpPhases) => void;

/**
 * The one interpreter of the pure coordinator's effects: it feeds client requests, peer
 * answers and deadlines into the Coordinator and carries out the sends, cancellations and
 * replies it returns, on the clock it is given (the process's, or the simulator's virtual one:
 * the simulation runs this very class, test/sim).
 */
export class Runtime implements ChannelSink {
  private readonly channels = new Map<MemberId, PeerChannel>();
  private readonly waiters = new Map<OpId, Waiter>();
  private nextOpId = 1;
  private accepting = true;
  private counters = { reads: 0, writes: 0, rmws: 0, rmwRefused: 0, rmwRetries: 0, fastPathReads: 0, failures: 0, quorumFailures: 0 };
  private readonly latency = { read: new LatencyWindow(), write: new LatencyWindow(), rmw: new LatencyWindow() };
  /** Backoff timers of preempted rmws, by op. */
  private readonly backoffs = new Map<OpId, Timer>();
  /** Told about each preempted rmw attempt (metrics). */
  onRmwRetry: (op: 'cas' | 'add') => void = () => {};
  private drained: (() => void) | undefined;
  /** Why no quorum can be had now, for the hint of quorum_unavailable (the daemon knows who is down). */
  explainQuorum: () => string = () => 'a majority of the members must be up and reachable';

  constructor(
    private readonly coordinator: Coordinator,
    private readonly opDeadlineMs: number,
    private readonly logger: Logger,
    private readonly observe: OpObserver = () => {},
    private readonly clock: Clock = realClock,
    private readonly mutations: RuntimeMutations = {},
    private readonly random: Random = realRandom,
  ) {}

  /** Registers the channel to one member (self included). */
  addChannel(channel: PeerChannel): void {
    this.channels.set(channel.member, channel);
  }

  read(addr: Addr): Promise<ReadResult> {
    return this.submit('read', addr, (opId) => this.coordinator.read(opId, addr)) as Promise<ReadResult>;
  }

  write(addr: Addr, value: string): Promise<WriteResult> {
    return this.submit('write', addr, (opId) => this.coordinator.write(opId, addr, value)) as Promise<WriteResult>;
  }

  /** A compare-and-set or add (docs/rmw.md); a refused change rejects with ChangeRefusedError. */
  rmw(addr: Addr, change: RmwChange): Promise<RmwResult> {
    return this.submit(change.kind, addr, (opId) => this.coordinator.rmw(opId, addr, change)) as Promise<RmwResult>;
  }

  /** A number that grows with every operation a client starts here (catch-up paces itself by it). */
  get opsStarted(): number {
    return this.nextOpId;
  }

  /** Operations waiting for their answer. */
  get inFlight(): number {
    return this.waiters.size;
  }

  stats(): OpStats {
    const [rp50, rp99] = this.latency.read.percentiles(50, 99);
    const [wp50, wp99] = this.latency.write.percentiles(50, 99);
    const [mp50, mp99] = this.latency.rmw.percentiles(50, 99);
    return {
      ...this.counters, inFlight: this.waiters.size,
      readLatencyMs: { p50: rp50 ?? null, p99: rp99 ?? null }, writeLatencyMs: { p50: wp50 ?? null, p99: wp99 ?? null },
      rmwLatencyMs: { p50: mp50 ?? null, p99: mp99 ?? null },
    };
  }

  /**
   * Stops taking operations, waits up to `drainMs` for those in flight, fails the rest
   * with `shutting_down`, and closes every channel.
   */
  async shutdown(drainMs: number): Promise<void> {
    this.accepting = false;
    if (this.waiters.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, drainMs);
        this.drained = () => { this.clock.clearTimeout(timer); resolve(); };
      });
    }
    this.execute(this.coordinator.shutdown());
    for (const ch of this.channels.values()) ch.close();
  }

  queryReply(opId: OpId, from: MemberId, stored: Versioned, rank: number | undefined, withValue: boolean): void {
    this.execute(this.coordinator.onQueryReply(opId, from, stored, rank, withValue));
  }

  valueLost(opId: OpId, from: MemberId, tag: Tag, rank: number | undefined): void {
    this.execute(this.coordinator.onValueLost(opId, from, tag, rank));
  }

  updateAck(opId: OpId, from: MemberId, rank?: number): void {
    this.execute(this.coordinator.onUpdateAck(opId, from, rank));
  }

  promise(opId: OpId, from: MemberId, promise: Promise_, rank: number | undefined): void {
    this.execute(this.coordinator.onPromise(opId, from, promise, rank));
  }

  committed(opId: OpId, from: MemberId, rank: number | undefined): void {
    this.execute(this.coordinator.onCommitted(opId, from, rank));
  }

  accepted(opId: OpId, from: MemberId, rank: number | undefined): void {
    this.execute(this.coordinator.onAccepted(opId, from, rank));
  }

  preempted(opId: OpId, phase: Phase, from: MemberId, promised: Ballot, rank: number | undefined): void {
    this.execute(this.coordinator.onPreempted(opId, phase, from, promised, rank));
  }

  /** The member sets changed: phases in flight restart under the new ones (core/coordinator.ts reconfigure). */
  reconfigure(view: Membership): void {
    this.execute(this.coordinator.reconfigure(view));
  }

  /** Fails every operation in flight with shutting_down and `message` (this node left the member set); new ones are still taken. */
  abandon(message: string): void {
    this.execute(this.coordinator.shutdown(message));
  }

  /** Adds the channel to a member that joined; idempotent. */
  hasChannel(member: MemberId): boolean {
    return this.channels.has(member);
  }

  /** Drops the channel to a member no longer in any counted set (after reconfigure). */
  removeChannel(member: MemberId): void {
    this.channels.get(member)?.close();
    this.channels.delete(member);
  }

  refused(opId: OpId, phase: Phase, from: MemberId, reason: string): void {
    this.logger.warn('peer refused a request', { peer: from, reason });
    this.execute(this.coordinator.onRefused(opId, phase, from, reason));
  }

  private submit(kind: OpKind, addr: Addr, start: (opId: OpId) => Effect[]): Promise<OpResult> {
    if (!this.accepting) return Promise.reject(new ShuttingDownError('the node is shutting down; try another member'));
    const opId = this.nextOpId++;
    const promise = new Promise<OpResult>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => this.execute(this.coordinator.onDeadline(opId)), this.opDeadlineMs);
      this.waiters.set(opId, { kind, addr, startedMs: this.clock.now(), resolve, reject, timer });
    });
    this.execute(start(opId));
    return promise;
  }

  private execute(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send-query':
          for (const m of e.to) this.channel(m).query(e.opId, e.addr, e.values);
          break;
        case 'send-update':
          for (const m of e.to) this.channel(m).update(e.opId, e.item);
          this.noteUpdateSent(e.opId);
          if (this.mutations.answerReadAtWriteBack && this.waiters.get(e.opId)?.kind === 'read') {
            this.settle(e.opId, 'ok', false)?.resolve({ kind: 'read', addr: e.item.addr, value: e.item.value, tag: e.item.tag, fastPath: false });
            for (const ch of this.channels.values()) ch.cancel(e.opId, 'update');
          }
          break;
        case 'send-rmw':
          for (const m of e.to) this.channel(m).rmw(e.opId, e.message);
          break;
        case 'backoff':
          this.backoff(e.opId, e.attempt);
          break;
        case 'cancel':
          for (const ch of this.channels.values()) ch.cancel(e.opId, e.phase);
          break;
        case 'resolve': {
          if (this.answeredTooLate(e.opId)) break;
          const fastPath = e.result.kind === 'read' && e.result.fastPath;
          if (e.result.kind === 'read') this.counters.reads += 1;
          else if (e.result.kind === 'rmw') this.counters.rmws += 1;
          else this.counters.writes += 1;
          if (fastPath) this.counters.fastPathReads += 1;
          this.settle(e.opId, 'ok', fastPath)?.resolve(e.result);
          break;
        }
        case 'reject': {
          const refused = e.failure.current !== undefined;
          if (refused) this.counters.rmwRefused += 1;
          else this.counters.failures += 1;
          if (e.failure.code === 'quorum_unavailable') this.counters.quorumFailures += 1;
          const w = this.settle(e.opId, e.failure.code, false);
          w?.reject(toError(e.failure, w.addr, this.explainQuorum));
          break;
        }
      }
    }
  }

  /**
   * An operation is never answered `ok` after its deadline, even when its quorum completes late
   * (a paused process, a slow disk, timers that fired late): wiped-dir recovery and register
   * repair wait one deadline before they copy from the others, and that wait is only safe if no
   * operation can still complete, past it, on acknowledgements a wiped member gave before it
   * lost them (docs/storage-integrity.md, simulation seed 1704 before this rule). The caller
   * sees quorum_unavailable for a read, outcome_unknown for a write (it is stored, but unacknowledged).
   */
  private answeredTooLate(opId: OpId): boolean {
    const w = this.waiters.get(opId);
    if (!w || this.clock.now() - w.startedMs <= this.opDeadlineMs) return false;
    this.counters.failures += 1;
    this.counters.quorumFailures += 1;
    if (w.kind !== 'read') {
      this.settle(opId, 'outcome_unknown', false)?.reject(new OutcomeUnknownError(
        `the quorum stored the ${w.kind === 'write' ? 'write' : w.kind} after the deadline of ${this.opDeadlineMs} ms, too late to acknowledge it; read the address to see it`, { hint: this.explainQuorum() },
      ));
      return true;
    }
    this.settle(opId, 'quorum_unavailable', false)?.reject(new QuorumUnavailableError(
      `the quorum answered after the deadline of ${this.opDeadlineMs} ms`, { hint: this.explainQuorum() },
    ));
    return true;
  }

  private settle(opId: OpId, outcome: OpOutcome, fastPath: boolean): Waiter | undefined {
    const w = this.waiters.get(opId);
    if (!w) return undefined;
    this.clock.clearTimeout(w.timer);
    const backoff = this.backoffs.get(opId);
    if (backoff !== undefined) {
      this.clock.clearTimeout(backoff);
      this.backoffs.delete(opId);
    }
    const now = this.clock.now();
    const ms = now - w.startedMs;
    if (outcome === 'ok') this.latency[w.kind === 'cas' || w.kind === 'add' ? 'rmw' : w.kind].add(ms);
    const phases: OpPhases | undefined = outcome !== 'ok' ? undefined : w.updateSentMs === undefined
      ? { querySeconds: ms / 1000, updateSeconds: undefined }
      : { querySeconds: (w.updateSentMs - w.startedMs) / 1000, updateSeconds: (now - w.updateSentMs) / 1000 };
    this.observe(w.kind, outcome, ms / 1000, fastPath, phases);
    this.waiters.delete(opId);
    if (this.waiters.size === 0) this.drained?.();
    return w;
  }

  /** A preempted rmw waits a random delay below a ceiling that doubles with each attempt, then tries a higher ballot. */
  private backoff(opId: OpId, attempt: number): void {
    const w = this.waiters.get(opId);
    if (w?.kind === 'cas' || w?.kind === 'add') {
      this.counters.rmwRetries += 1;
      this.onRmwRetry(w.kind);
    }
    const ceiling = Math.min(limits.rmwBackoffMsMax, limits.rmwBackoffMsMin * 2 ** Math.min(attempt, 20));
    this.backoffs.set(opId, this.clock.setTimeout(() => {
      this.backoffs.delete(opId);
      this.execute(this.coordinator.onBackoffEnd(opId));
    }, this.random.next() * ceiling));
  }

  private noteUpdateSent(opId: OpId): void {
    const w = this.waiters.get(opId);
    if (w && w.updateSentMs === undefined) w.updateSentMs = this.clock.now();
  }

  private channel(member: MemberId): PeerChannel {
    const ch = this.channels.get(member);
    if (!ch) throw new Error(`no channel to member ${member}`);
    return ch;
  }
}

function toError(f: OpFailure, addr: Addr, explainQuorum: () => string): ShmemError {
  switch (f.code) {
    case 'cas_mismatch':
    case 'not_a_number':
    case 'out_of_range':
      return new ChangeRefusedError(f.code, f.message, addr, { value: f.current!.value, tag: f.current!.tag });
    case 'quorum_unavailable': return new QuorumUnavailableError(f.message, { hint: explainQuorum() });
    case 'membership_mismatch': return new MembershipMismatchError(f.message, {
      hint: 'every member must be started with the same member set and the same cluster credentials (CA, cluster secret)',
    });
    case 'shutting_down': return new ShuttingDownError(f.message);
    case 'outcome_unknown': return new OutcomeUnknownError(f.message, { hint: 'read the address to see whether it took effect before trying again' });
  }
}
