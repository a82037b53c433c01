import type { OpId, Phase } from '../core/coordinator.js';
import { limits } from '../core/limits.js';
import { isPreempted, isPromise, type Ballot, type Promise_, type RmwMessage } from '../core/rmw.js';
import { isUnavailable, isValueLost, type Addr, type MemberId, type RegisterItem, type Tag, type Versioned } from '../core/types.js';
import { realClock, realRandom, type Clock, type Random, type Timer } from '../platform/clock.js';
import { PeerAnswerError, PeerRefusedError, type PeerLink } from './peer-link.js';

/**
 * Where a channel delivers what its member answered; `rank`: the configuration state it was
 * asked and answered under; `withValue`: whether the value was asked for (else only the tag means anything).
 */
export interface ChannelSink {
  queryReply(opId: OpId, from: MemberId, stored: Versioned, rank: number | undefined, withValue: boolean): void;
  /** The member holds `tag`, its value damaged there (docs/storage-integrity.md). */
  valueLost(opId: OpId, from: MemberId, tag: Tag, rank: number | undefined): void;
  updateAck(opId: OpId, from: MemberId, rank?: number): void;
  /** Answers of an rmw's Paxos phases (docs/rmw.md). */
  promise(opId: OpId, from: MemberId, promise: Promise_, rank: number | undefined): void;
  accepted(opId: OpId, from: MemberId, rank: number | undefined): void;
  committed(opId: OpId, from: MemberId, rank: number | undefined): void;
  preempted(opId: OpId, phase: Phase, from: MemberId, promised: Ballot, rank: number | undefined): void;
  refused(opId: OpId, phase: Phase, from: MemberId, reason: string): void;
}


/** Deliberately broken variants, switched on only by the simulator's mutation tests. */
export interface ChannelMutations {
  /** An update whose batch failed is dropped instead of retried (a lost update is never re-sent). */
  readonly noRetry?: boolean;
}

/**
 * The configuration state a channel sends its requests under (docs/membership.md): every
 * batch names it, and answers that another state holds are handed back here.
 */
export interface ChannelMembership {
  /** The state requests are sent under now. */
  rank(): number;
  /** A member answered with a state it holds (`stale_config`, `retired`): adopt it if newer. */
  learned(state: unknown, from: MemberId): void;
  /** A member holds an older state than ours (`config_behind`): send it ours; resolves when done or failed. */
  behind(member: MemberId): Promise<void>;
}

/** What a channel is given: its clock and randomness (seams for the simulator), and mutations. */
export interface ChannelDeps {
  readonly clock?: Clock;
  readonly random?: Random;
  readonly mutations?: ChannelMutations;
  readonly membership?: ChannelMembership;
}

interface Request {
  readonly key: string;
  readonly opId: OpId;
  readonly phase: Phase;
  /** For a query: whether the op needs the value (a read) or only the tag (a write). */
  readonly withValues: boolean;
  readonly addr: Addr;
  readonly item: RegisterItem | undefined;
  /** An rmw's prepare, accept or commit (POST /peer/rmw). */
  readonly rmw?: RmwMessage;
  attempt: number;
  timer: Timer | undefined;
}

/** Counters for /status and /metrics. */
export interface ChannelStats {
  readonly batchesSent: number;
  readonly itemsSent: number;
  readonly retries: number;
  readonly failures: number;
}

/**
 * Everything one coordinator asks of one member goes through its channel:
 * - batching: requests made in the same turn of the event loop travel in one HTTP request
 *   per phase (up to limits.batchItemsMax items / batchValueBytesMax value bytes);
 * - retries: a request whose batch failed is retried alone, with exponential backoff and
 *   jitter, until it is answered or cancelled (the op's deadline cancels it);
 * - cancellation: once an op's phase has its quorum, its requests here are dropped: not sent
 *   if still queued, never retried, and their answers ignored. An HTTP request already on the
 *   wire is left to finish rather than aborted: aborting destroys the keep-alive connection
 *   (profiled: reconnects and error objects cost more than the answer), the peer does the
 *   work anyway, and a late update still brings a lagging replica up to date.
 */
export class PeerChannel {
  private readonly live = new Map<string, Request>();
  private readonly queued: Record<Phase, Request[]> = { query: [], update: [], prepare: [], accept: [], commit: [] };
  private flushScheduled = false;
  private closed = false;
  /** Aborts requests on the wire only when the channel closes (node shutdown). */
  private readonly shutdown = new AbortController();
  private counters = { batchesSent: 0, itemsSent: 0, retries: 0, failures: 0 };

  private readonly clock: Clock;
  private readonly random: Random;

  constructor(private readonly link: PeerLink, private readonly sink: ChannelSink, private readonly deps: ChannelDeps = {}) {
    this.clock = deps.clock ?? realClock;
    this.random = deps.random ?? realRandom;
  }

  get member(): MemberId {
    return this.link.member;
  }

  stats(): ChannelStats {
    return { ...this.counters };
  }

  /** Asks the member for its pair at `addr` on behalf of `opId` (its tag only, unless `withValues`). */
  query(opId: OpId, addr: Addr, withValues = true): void {
    this.add(opId, 'query', withValues, addr, undefined);
  }

  /** Sends `item` to the member on behalf of `opId` (an op's update phase). */
  update(opId: OpId, item: RegisterItem): void {
    this.add(opId, 'update', false, item.addr, item);
  }

  /** One message of an rmw's Paxos (its phase is the message's op). */
  rmw(opId: OpId, message: RmwMessage): void {
    this.add(opId, message.op, false, message.addr, message.op === 'prepare' ? undefined : message.item, message);
  }

  /** Drops the outstanding request of `opId` in `phase`, if any. */
  cancel(opId: OpId, phase: Phase): void {
    const req = this.live.get(keyOf(opId, phase));
    if (!req) return;
    this.live.delete(req.key);
    this.clock.clearTimeout(req.timer);
  }

  /** Cancels everything; later requests are ignored. */
  close(): void {
    this.closed = true;
    for (const req of [...this.live.values()]) this.cancel(req.opId, req.phase);
    this.shutdown.abort();
  }

  private add(opId: OpId, phase: Phase, withValues: boolean, addr: Addr, item: RegisterItem | undefined, rmw?: RmwMessage): void {
    if (this.closed) return;
    const req: Request = { key: keyOf(opId, phase), opId, phase, withValues, addr, item, ...(rmw ? { rmw } : {}), attempt: 0, timer: undefined };
    this.live.set(req.key, req);
    this.enqueue(req);
  }

  private isLive(req: Request): boolean {
    return this.live.get(req.key) === req;
  }

  private enqueue(req: Request): void {
    this.queued[req.phase].push(req);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.clock.defer(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const phase of ['query', 'update'] as const) {
      const ready = this.queued[phase].filter((r) => this.isLive(r));
      this.queued[phase] = [];
      for (const chunk of chunks(ready, limits.batchItemsMax)) void this.send(phase, chunk);
    }
    // An rmw's messages travel together (POST /peer/rmw), fewer to a batch: every answer may carry a value.
    const rmw = [...this.queued.prepare, ...this.queued.accept, ...this.queued.commit].filter((r) => this.isLive(r));
    this.queued.prepare = [];
    this.queued.accept = [];
    this.queued.commit = [];
    for (const chunk of chunks(rmw, limits.rmwBatchMax)) void this.send('prepare', chunk);
  }

  private async send(phase: Phase, reqs: Request[]): Promise<void> {
    const signal = this.shutdown.signal;
    this.counters.batchesSent += 1;
    this.counters.itemsSent += reqs.length;
    const rank = this.deps.membership?.rank();
    try {
      if (phase === 'query') {
        // Reads' and writes' queries share the batch; each address says whether its value is needed.
        const all = reqs.every((r) => r.withValues === reqs[0]!.withValues);
        const answers = await this.link.query(reqs.map((r) => r.addr), all ? reqs[0]!.withValues : reqs.map((r) => r.withValues), signal, rank);
        reqs.forEach((r, i) => {
          const a = answers[i]!;
          // The member cannot vouch for this address (a damaged register): no answer yet, ask again later.
          if (isUnavailable(a)) {
            if (this.isLive(r)) this.retryLater(r);
            return;
          }
          if (isValueLost(a)) {
            if (this.settle(r)) this.sink.valueLost(r.opId, this.member, a.tag, rank);
            return;
          }
          if (this.settle(r)) this.sink.queryReply(r.opId, this.member, a as Versioned, rank, r.withValues);
        });
      } else if (phase === 'update') {
        await this.link.update(reqs.map((r) => r.item!), signal, rank);
        for (const r of reqs) if (this.settle(r)) this.sink.updateAck(r.opId, this.member, rank);
      } else {
        await this.sendRmw(reqs, signal, rank);
      }
    } catch (err) {
      if (signal.aborted) return; // closed
      this.counters.failures += 1;
      const membership = this.deps.membership;
      if (membership && err instanceof PeerAnswerError) {
        // Another configuration state: adopt theirs (the coordinator then restarts the phase and
        // these requests are cancelled), or send them ours; whatever is still live is retried.
        if ((err.code === 'stale_config' || err.code === 'retired') && err.state !== undefined) membership.learned(err.state, this.member);
        if (err.code === 'config_behind') {
          await membership.behind(this.member);
          for (const r of reqs) if (this.isLive(r) && !this.closed) this.enqueue(r);
          return;
        }
      }
      for (const r of reqs) {
        if (!this.isLive(r)) continue;
        if (err instanceof PeerRefusedError) {
          this.live.delete(r.key);
          this.sink.refused(r.opId, r.phase, this.member, err.message);
        } else {
          this.retryLater(r);
        }
      }
    }
  }

  private async sendRmw(reqs: readonly Request[], signal: AbortSignal, rank: number | undefined): Promise<void> {
    const answers = await this.link.rmw(reqs.map((r) => r.rmw!), signal, rank);
    reqs.forEach((r, i) => {
      const a = answers[i]!;
      // A damaged register or acceptor row, or a value past the answer's byte budget: ask again later.
      if ('unavailable' in a) {
        if (this.isLive(r)) this.retryLater(r);
        return;
      }
      if (!this.settle(r)) return;
      if (isPreempted(a)) this.sink.preempted(r.opId, r.phase, this.member, a.preempted, rank);
      else if (isPromise(a)) this.sink.promise(r.opId, this.member, a, rank);
      else if ('committed' in a) this.sink.committed(r.opId, this.member, rank);
      else this.sink.accepted(r.opId, this.member, rank);
    });
  }

  /** Marks `req` answered; false when it was cancelled meanwhile. */
  private settle(req: Request): boolean {
    if (!this.isLive(req)) return false;
    this.live.delete(req.key);
    return true;
  }

  private retryLater(req: Request): void {
    if (this.deps.mutations?.noRetry && req.phase === 'update') {
      this.live.delete(req.key);
      return;
    }
    req.attempt += 1;
    this.counters.retries += 1;
    const ceiling = Math.min(limits.retryBackoffMsMax, limits.retryBackoffMsMin * 2 ** req.attempt);
    const delayMs = ceiling / 2 + this.random.next() * (ceiling / 2); // jitter: retries of many ops spread out
    req.timer = this.clock.setTimeout(() => {
      req.timer = undefined;
      if (this.isLive(req) && !this.closed) this.enqueue(req);
    }, delayMs);
  }

  /** Requests asked of this member and not answered or cancelled yet (bounded: tested under long partitions). */
  get outstanding(): number {
    return this.live.size;
  }
}

function keyOf(opId: OpId, phase: Phase): string {
  return `${opId}:${phase}`;
}

/** Splits requests into batches within the item and value-byte bounds. */
function* chunks(reqs: Request[], itemsMax: number): Generator<Request[]> {
  let current: Request[] = [];
  let bytes = 0;
  for (const r of reqs) {
    const size = r.item?.value?.length ?? 0;
    if (current.length > 0 && (current.length >= itemsMax || bytes + size > limits.batchValueBytesMax)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) yield current;
}
