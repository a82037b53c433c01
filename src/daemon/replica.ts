import { limits } from '../core/limits.js';
import { compareTags } from '../core/tag.js';
import type { ChangeFeedPage, TagPage } from '../core/catchup.js';
import type { RegisterPage } from '../core/recovery.js';
import {
  acceptorStep, afterCommit, compareBallots, mergeAcceptorRows, type Acceptance, type AcceptorPage, type AcceptorMutations, type AcceptorRow, type Ballot, type Committed, type RmwAnswer, type RmwMessage,
} from '../core/rmw.js';
import { isDeferred, isUnavailable, isValueLost, type Addr, type RegisterItem, type ReplicaAnswer, type ValueWant, type Versioned } from '../core/types.js';
import { valueSize } from '../core/value.js';
import { RecoveringError } from '../errors.js';
import type { RegisterStore } from '../storage/register-store.js';
import type { MembershipKeeper } from '../membership/keeper.js';
import type { AcceptorState } from '../membership/paxos.js';
import type { LocalReplica } from '../transport/peer-link.js';
import { ACCEPTOR_PAGE_ITEMS, STREAM_TOO_LARGE } from '../transport/wire.js';

/**
 * The replica role of this node (SPEC section 2) in front of its store. While the node is
 * recovering a wiped data dir it answers nothing (503 `recovering`), so it is never counted
 * in a quorum with data it does not have; senders retry elsewhere or later. Addresses whose
 * register is damaged are answered `unavailable` by the store until repaired.
 *
 * Every request names the configuration state it was sent under (`rank`); the keeper answers
 * one of another state with `stale_config`, `config_behind` or `retired` instead
 * (docs/membership.md). An update is checked again when its commit is done: if this member
 * learned a newer state meanwhile (a state transfer read it while the commit was under way),
 * the acknowledgement would count under a state this member knows is over, so it is answered
 * `stale_config` instead (the items stay stored: a newer pair is always safe to keep).
 */
export class Replica implements LocalReplica {
  /**
   * Acceptor rows decided and being committed, not yet durable: later messages for the address
   * build on them (the store's group commits are in order, so no answer leaves before the rows
   * it depends on are durable).
   */
  private readonly pendingAcceptors = new Map<Addr, { readonly row: AcceptorRow; readonly durable: Promise<void> }>();
  /** Promise leases (limits.rmwPromiseLeaseMs): per address, the ballot promised and until when others are refused. */
  private readonly leases = new Map<Addr, { ballot: Ballot; untilMs: number }>();
  /** The clock leases are measured on (the simulator's virtual one in the simulation). */
  now: () => number = () => performance.now();

  constructor(
    private readonly store: RegisterStore, public recovering: boolean, private readonly membership?: MembershipKeeper,
    private readonly acceptorMutations: AcceptorMutations = {},
  ) {}

  /** While recovering: whether this node knows the cluster has served (docs/recovery.md); set by the node. */
  servedKnown: () => boolean = () => true;

  /** What a recovering member must know of this node's coordinator (core/recovery.ts); set by the node. */
  coordinatorFacts: () => { readonly busy: boolean; readonly opDeadlineMs: number } | Record<string, never> = () => ({});
  /**
   * This member's Paxos acceptor, set by MemberChanges: its state goes with every page (a wiped
   * member takes it on), and a vote for an epoch not yet in force counts as being busy (a
   * proposer may still count a vote the wiped member gave). `recovered` is called with the
   * copied members' states before the node answers again.
   */
  paxos: { state(): AcceptorState; undecided(): boolean; recovered(copied: readonly AcceptorState[]): void } | undefined;

  query(addrs: readonly Addr[], want: ValueWant, rank?: number): ReplicaAnswer[] {
    this.membership?.check(rank);
    this.refuseWhileRecovering();
    return this.store.query(addrs, want);
  }

  /** Resolves once the items are durable; stale items are not stored but still acknowledged. */
  async update(items: readonly RegisterItem[], rank?: number): Promise<void> {
    const membership = this.membership;
    membership?.check(rank);
    if (this.recovering) throw this.recoveringError();
    const before = membership?.rank;
    await this.store.putIfNewer(items);
    if (membership && membership.rank !== before) membership.check(before);
  }

  /**
   * A batch of an rmw's prepares, accepts and commits (docs/rmw.md): prepares and accepts apply
   * the acceptor rule to their address's row; a commit stores its register (the replica rule, as
   * an update) and notes its origin in the row. Changed rows and registers are made durable
   * before any answer leaves. A promise carries the register as it is when answered (a register
   * whose value failed its checksum gives its tag and `lost`, as a query does). Values in answers
   * come up to limits.bulkAnswerValueBytesMax in all, the first whatever its size; the rest are
   * answered `unavailable` and asked again (asking again at the same ballot changes nothing).
   */
  async rmw(messages: readonly RmwMessage[], rank?: number, inlineOnly = false): Promise<RmwAnswer[]> {
    const membership = this.membership;
    membership?.check(rank);
    if (this.recovering) throw this.recoveringError();
    const before = membership?.rank;
    const write = this.acceptorWrite();
    const commits: RegisterItem[] = [];
    const steps = messages.map((msg) => {
      const { row, pending } = write.read(msg.addr);
      if (row === undefined) return undefined; // its stored row is damaged: not answered until recovered
      let next: AcceptorRow;
      let answer: Exclude<RmwAnswer, { register: Versioned } | { unavailable: string }> | { promise: true; accepted: Acceptance | null; commits: readonly Committed[] };
      if (msg.op === 'commit') {
        next = afterCommit(row, msg.item.tag, msg.origin, limits.rmwCommitHistory);
        // The same commit again (a retried request): its register went into the store with the row
        // that noted it, durable or waited for; one noted only by a recovery's merge is written.
        const again = next === row && (pending || this.registerHolds(msg.item));
        if (!again) commits.push(msg.item);
        answer = { committed: true };
      } else {
        const leased = this.leaseHolder(msg);
        if (leased) return { preempted: leased };
        const step = acceptorStep(row, msg, this.acceptorMutations);
        if ('promise' in step.answer) this.lease(msg.addr, msg.ballot);
        next = step.row;
        answer = step.answer;
      }
      if (next !== row) write.set(msg.addr, next);
      return answer;
    });
    await write.store(commits);
    if (membership && membership.rank !== before) membership.check(before);
    let budget = limits.bulkAnswerValueBytesMax;
    let first = true;
    return steps.map((answer, i): RmwAnswer => {
      if (answer === undefined) return { unavailable: 'damaged' };
      if (!('promise' in answer)) return answer;
      const register: ReplicaAnswer = this.store.query([messages[i]!.addr], { values: true, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true })[0]!;
      if (isDeferred(register) || isUnavailable(register)) return { unavailable: 'damaged' };
      const lost = isValueLost(register);
      const value = lost ? null : (register as Versioned).value;
      // On the peer stream, answers carry small values only; the asker fetches the others over POST /peer/rmw.
      if (inlineOnly && ((value?.length ?? 0) > limits.inlineValueCharsMax || (answer.accepted?.value.length ?? 0) > limits.inlineValueCharsMax)) {
        return { unavailable: STREAM_TOO_LARGE };
      }
      const bytes = Math.max(0, valueSize(value)) + (answer.accepted ? valueSize(answer.accepted.value) : 0);
      if (!first && bytes > budget) return { unavailable: 'answer budget' };
      first = false;
      budget -= bytes;
      return { promise: true, accepted: answer.accepted, commits: answer.commits, register: { tag: register.tag, value }, ...(lost ? { lost: true } : {}) };
    });
  }

  /**
   * One request's changes to acceptor rows (docs/rmw.md, "Answers wait for what they depend on"):
   * `read` gives a row as the last decision left it (a row another request is still committing,
   * else the stored one; undefined: damaged) and notes that the answer depends on that commit;
   * `set` makes a new row visible to later reads at once; `store` writes the rows (and `commits`,
   * registers) in one request of the group commit, then waits for every commit read from.
   */
  private acceptorWrite(): {
    read(addr: Addr): { row: AcceptorRow | undefined; pending: boolean };
    set(addr: Addr, row: AcceptorRow): void;
    store(commits: readonly RegisterItem[]): Promise<void>;
  } {
    const changed = new Map<Addr, AcceptorRow>();
    const dependsOn = new Set<Promise<void>>();
    let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
    const durable = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    durable.catch(() => {}); // whoever waits on it sees the failure; nobody else must
    return {
      read: (addr) => {
        const pending = this.pendingAcceptors.get(addr);
        if (pending === undefined) return { row: this.store.acceptors([addr])[0], pending: false };
        if (pending.durable !== durable) dependsOn.add(pending.durable);
        return { row: pending.row, pending: true };
      },
      set: (addr, row) => {
        this.pendingAcceptors.set(addr, { row, durable });
        changed.set(addr, row);
      },
      store: async (commits) => {
        try {
          if (changed.size > 0 || commits.length > 0) await this.store.putRmw(commits, [...changed].map(([addr, row]) => ({ addr, row })));
          settle!.resolve();
        } catch (err) {
          settle!.reject(err);
          throw err;
        } finally {
          for (const addr of changed.keys()) if (this.pendingAcceptors.get(addr)?.durable === durable) this.pendingAcceptors.delete(addr);
        }
        await Promise.all(dependsOn);
      },
    };
  }

  /** Whether the durable register of `item`'s address is at least as new as it. */
  private registerHolds(item: RegisterItem): boolean {
    const stored = this.store.query([item.addr], { values: false, budgetBytes: 0, oversize: false })[0]!;
    return 'tag' in stored && !('lost' in stored) && compareTags(stored.tag, item.tag) >= 0;
  }

  /** Another proposer's ballot whose lease refuses this prepare, if any; an accept of the leased ballot ends its lease. */
  private leaseHolder(msg: Exclude<RmwMessage, { op: 'commit' }>): Ballot | undefined {
    const lease = this.leases.get(msg.addr);
    if (!lease) return undefined;
    const same = compareBallots(lease.ballot, msg.ballot) === 0;
    if (msg.op === 'accept' || this.now() >= lease.untilMs) {
      if (msg.op === 'prepare' || same) this.leases.delete(msg.addr);
      return undefined;
    }
    return same || lease.ballot.node === msg.ballot.node ? undefined : lease.ballot;
  }

  private lease(addr: Addr, ballot: Ballot): void {
    this.leases.delete(addr); // re-inserted last: the map's order is oldest first
    this.leases.set(addr, { ballot, untilMs: this.now() + limits.rmwPromiseLeaseMs });
    if (this.leases.size > limits.rmwPromiseLeasesMax) this.leases.delete(this.leases.keys().next().value!);
  }

  /**
   * A page of registers for a recovering member (at most limits.registerPageValueBytesMax of
   * values); "not initialised" while recovering ourselves, with whether we know the cluster has served.
   */
  page(after: Addr | null, limit: number, rank?: number): RegisterPage {
    if (rank !== undefined) this.membership?.check(rank);
    if (this.recovering) return { initialized: false, served: this.servedKnown(), items: [], next: null };
    const { items, next } = this.store.page(after, limit, limits.registerPageValueBytesMax);
    const facts = this.coordinatorFacts();
    if (!this.paxos) return { initialized: true, items, next, ...facts };
    const busy = 'busy' in facts ? facts.busy || this.paxos.undecided() : undefined;
    return { initialized: true, items, next, ...facts, ...(busy !== undefined ? { busy } : {}), acceptor: this.paxos.state() };
  }

  /**
   * Merges acceptor rows into this member's own, address by address (a member change's state
   * transfer, docs/rmw.md): the highest promise, the highest-ballot acceptance, the newest commits.
   * Durable before it resolves; rows being committed here are merged with, and waited for.
   */
  async mergeAcceptors(rows: AcceptorPage['items'], rank?: number): Promise<void> {
    const membership = this.membership;
    membership?.check(rank);
    if (this.recovering) throw this.recoveringError();
    const before = membership?.rank;
    const write = this.acceptorWrite();
    for (const { addr, row } of rows) {
      const own = write.read(addr).row;
      write.set(addr, mergeAcceptorRows(own === undefined ? [row] : [own, row], limits.rmwCommitHistory));
    }
    await write.store([]);
    if (membership && membership.rank !== before) membership.check(before);
  }

  /** A page of this member's rmw acceptor rows after `after` (a wiped member's recovery copies them, docs/rmw.md). */
  acceptorPage(after: Addr | null, rank?: number): AcceptorPage {
    if (rank !== undefined) this.membership?.check(rank);
    this.refuseWhileRecovering();
    const items = this.store.acceptorPage(after, ACCEPTOR_PAGE_ITEMS);
    return { items, next: items.length === ACCEPTOR_PAGE_ITEMS ? items.at(-1)!.addr : null };
  }

  /**
   * A page of this replica's change feed after `since` (docs/catch-up.md): tags only for
   * catch-up, with values for a recovering member; "not initialised" while recovering ourselves.
   * With values it carries what a recovering member must know, as page() does.
   */
  changes(since: number, limit: number, values: boolean, rank?: number): ChangeFeedPage {
    if (rank !== undefined) this.membership?.check(rank);
    if (this.recovering) return { initialized: false, served: this.servedKnown(), items: [], next: null };
    const page = this.store.changes(since, limit, values ? limits.registerPageValueBytesMax : null);
    const feed = { initialized: true, items: page.items, next: page.next, log: page.log, head: page.head, oldestAgeMs: page.oldestAgeMs };
    if (!values) return feed;
    const facts = this.coordinatorFacts();
    if (!this.paxos) return { ...feed, ...facts };
    const busy = 'busy' in facts ? facts.busy || this.paxos.undecided() : undefined;
    return { ...feed, ...facts, ...(busy !== undefined ? { busy } : {}), acceptor: this.paxos.state() };
  }

  /** Up to `limit` tags after `after` in address order, for a peer's full comparison (damaged registers left out). */
  tagPage(after: Addr | null, limit: number, rank?: number): TagPage {
    if (rank !== undefined) this.membership?.check(rank);
    this.refuseWhileRecovering();
    const entries = this.store.tags({ after }, limit);
    return {
      items: entries.filter((e) => !e.damaged).map((e) => ({ addr: e.addr, tag: e.tag, value: null })),
      next: entries.length === limit ? entries.at(-1)!.addr : null,
    };
  }

  private refuseWhileRecovering(): void {
    if (this.recovering) throw this.recoveringError();
  }

  private recoveringError(): RecoveringError {
    return new RecoveringError('this member is recovering its data from the other members and does not answer yet');
  }
}
