import { limits } from '../../src/core/limits.js';
import type { ChangeFeedPage, TagPage } from '../../src/core/catchup.js';
import type { RegisterPage } from '../../src/core/recovery.js';
import type { AcceptorPage, RmwAnswer, RmwMessage } from '../../src/core/rmw.js';
import type { Addr, MemberId, QueryAnswer, RegisterItem, ReplicaAnswer, ValueWant } from '../../src/core/types.js';
import { ShmemError, ConfigStateError } from '../../src/errors.js';
import { PeerAnswerError, PeerRefusedError, type ConfigAnswer, type ConfigLink, type PaxosMessage } from '../../src/transport/peer-link.js';
import type { PingReply } from '../../src/transport/wire.js';
import type { Random } from './random.js';
import type { Scope, World } from './world.js';

/** What a node serves to the other members: the peer half of the daemon's NodeApi (replica, pages, ping, configuration). */
export interface PeerServer {
  query(addrs: readonly Addr[], want: ValueWant, rank?: number): ReplicaAnswer[];
  update(items: readonly RegisterItem[], rank?: number): Promise<void>;
  /** POST /peer/rmw: an rmw's prepares and accepts (docs/rmw.md). */
  acceptRmw(messages: readonly RmwMessage[], rank?: number): Promise<RmwAnswer[]>;
  registers(after: Addr | null, limit: number, rank?: number): RegisterPage;
  acceptorPage(after: Addr | null, rank?: number): AcceptorPage;
  mergeAcceptors(rows: AcceptorPage['items'], rank?: number): Promise<void>;
  changes(since: number, limit: number, values: boolean, rank: number | undefined, from: MemberId, log: string | undefined): ChangeFeedPage;
  tagPage(after: Addr | null, limit: number, rank?: number): TagPage;
  ping(): PingReply;
  /** GET /peer/config, POST /peer/config, POST /peer/paxos (absent on a node run without membership). */
  config?(): ConfigAnswer;
  pushConfig?(state: unknown): ConfigAnswer;
  paxos?(message: PaxosMessage): unknown;
}

/** A running node process as the network reaches it. */
export interface Endpoint {
  readonly scope: Scope;
  readonly server: PeerServer;
  /** Why this node refuses peers now (another cluster secret, say), or undefined. */
  refusing(): string | undefined;
}

export type MessageKind = 'query' | 'update' | 'rmw' | 'ping' | 'registers' | 'changes' | 'tags' | 'config' | 'paxos' | 'answer';

/** A message on the wire, as tests see it when they deliver by hand. */
export interface Message {
  readonly from: MemberId;
  readonly to: MemberId;
  readonly kind: MessageKind;
  /** For an answer: the kind of request it answers. */
  readonly answers?: MessageKind;
  readonly addrs?: readonly Addr[];
  readonly items?: readonly RegisterItem[];
  deliver(): void;
}

/** How the network misbehaves; changed by the simulator as faults come and go. */
export interface NetworkConditions {
  dropRate: number;
  duplicateRate: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** Chance that a message takes up to `longDelayMs` instead (reordering well past retries). */
  longDelayRate: number;
  longDelayMs: number;
}

export interface NetworkOptions {
  /** A request unanswered this long fails (HttpLink's progress deadline). */
  readonly requestDeadlineMs: number;
  /** Registers per recovery page (small in the simulation, so recovery takes many pages). */
  readonly pageItems: number;
  /** A recovery page unanswered this long fails (HttpLink's registers timeout). */
  readonly registersDeadlineMs: number;
}

/**
 * The simulated network between node processes: every request and answer is a message that
 * may be dropped, duplicated, delayed (and so reordered) or cut by a directed partition
 * (A to B cut while B to A works). A request to a member with no running process is refused
 * (one round trip, like a TCP reset); an answer to a process that died is lost. In manual
 * mode nothing moves until a test delivers it (`deliver`, `drop`).
 */
export class SimNetwork {
  readonly held: Message[] = [];
  manual = false;
  messages = 0;
  private readonly endpoints = new Map<MemberId, Endpoint>();
  private readonly cuts = new Set<string>();
  /** The kernel of a machine with no process: it answers connection attempts with a reset. */
  private readonly kernel: Scope;
  private readonly linksByMember = new Map<MemberId, SimLink[]>();

  constructor(
    readonly world: World,
    private readonly rng: Random,
    readonly conditions: NetworkConditions,
    readonly options: NetworkOptions,
  ) {
    this.kernel = world.scope('kernel');
  }

  attach(member: MemberId, endpoint: Endpoint): void {
    this.endpoints.set(member, endpoint);
  }

  detach(member: MemberId): void {
    this.endpoints.delete(member);
    this.linksByMember.delete(member);
  }

  /** The links of `member`'s process to the others. */
  linksFor(member: MemberId, scope: Scope, others: readonly MemberId[]): SimLink[] {
    const links = others.map((to) => new SimLink(this, member, scope, to));
    this.linksByMember.set(member, links);
    return links;
  }

  /** One more link of `member`'s process (a member that joined, or a short-lived one to a node being added). */
  linkTo(member: MemberId, scope: Scope, to: MemberId): SimLink {
    const link = new SimLink(this, member, scope, to);
    this.linksByMember.set(member, [...(this.linksByMember.get(member) ?? []), link]);
    return link;
  }

  /** Breaks every connection of `member`'s process (its requests in flight fail at once). */
  reset(member: MemberId): void {
    for (const l of this.linksByMember.get(member) ?? []) l.reset();
  }

  cut(from: MemberId, to: MemberId): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(from: MemberId, to: MemberId): void {
    this.cuts.delete(`${from}>${to}`);
  }

  healAll(): void {
    this.cuts.clear();
  }

  isCut(from: MemberId, to: MemberId): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  /** Delivers held messages matching `filter`, and what they cause, until none matches (manual mode). */
  async deliver(filter: (m: Message) => boolean = () => true): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      await this.world.run({ endMs: this.world.now });
      const i = this.held.findIndex(filter);
      if (i < 0) return;
      const [m] = this.held.splice(i, 1);
      m!.deliver();
    }
    throw new Error('deliver did not converge');
  }

  /** Drops held messages matching `filter` (manual mode). */
  drop(filter: (m: Message) => boolean): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (filter(this.held[i]!)) this.held.splice(i, 1);
  }

  /** Sends a message from a process; it arrives (or not) on the network's terms. */
  transmit(sender: Scope, message: Omit<Message, 'deliver'>, arrive: () => void): void {
    if (!sender.alive) return;
    this.messages += 1;
    if (this.manual) {
      this.held.push({ ...message, deliver: arrive });
      return;
    }
    const c = this.conditions;
    if (this.isCut(message.from, message.to) || this.rng.chance(c.dropRate)) return;
    const copies = this.rng.chance(c.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.chance(c.longDelayRate) ? this.rng.int(c.delayMaxMs, c.longDelayMs) : this.rng.int(c.delayMinMs, c.delayMaxMs);
      this.world.queue.after(delay, arrive);
    }
  }

  /**
   * A request from `link` arrived at its member: served by the process running there now
   * (refused if none, or if it refuses peers), and answered back through the network.
   */
  serve<T>(
    link: SimLink, request: Omit<Message, 'deliver'>, work: (server: PeerServer) => T | Promise<T>, answer: (outcome: Outcome<T>) => void,
  ): void {
    const to = link.member;
    const endpoint = this.endpoints.get(to);
    const reply = (scope: Scope, outcome: Outcome<T>): void => {
      this.transmit(scope, { ...request, from: to, to: link.from, kind: 'answer', answers: request.kind }, () => link.scope.enter(() => answer(outcome)));
    };
    if (!endpoint) {
      reply(this.kernel, { ok: false, error: new Error(`connect ECONNREFUSED (${to} is not running)`) });
      return;
    }
    endpoint.scope.enter(() => {
      const refusal = endpoint.refusing();
      if (refusal !== undefined) {
        reply(endpoint.scope, { ok: false, error: new PeerRefusedError(`${to} refused: ${refusal}`) });
        return;
      }
      let result: T | Promise<T>;
      try {
        result = work(endpoint.server);
      } catch (err) {
        reply(endpoint.scope, { ok: false, error: transient(to, err) });
        return;
      }
      Promise.resolve(result).then(
        (value) => reply(endpoint.scope, { ok: true, value }),
        (err: unknown) => reply(endpoint.scope, { ok: false, error: transient(to, err) }),
      );
    });
  }
}

/** HttpLink's deadline of configuration and Paxos requests. */
const CONFIG_DEADLINE_MS = 5_000;

/** A configuration answer, copied as JSON would copy it; a node without membership has none. */
function served<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('this node runs without membership');
  return JSON.parse(JSON.stringify(v)) as T;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * What the HTTP link makes of a failed request: an answer with an error code (PeerAnswerError,
 * with the state of stale_config and retired), or a plain failure, retried.
 */
function transient(member: MemberId, err: unknown): Error {
  if (err instanceof ShmemError) return new PeerAnswerError(member, err.code, err.message, err instanceof ConfigStateError ? err.state : undefined);
  return new Error(`${member} answered 503: ${(err as Error).message ?? String(err)}`);
}

/**
 * One process's link to one member over the simulated network: the MemberLink the real node
 * is given in place of HttpLink. Every call fails after its deadline unless answered first,
 * and at once when the link is reset or closed.
 */
export class SimLink implements ConfigLink {
  private readonly pending = new Set<(err: Error) => void>();
  private closed = false;

  constructor(private readonly net: SimNetwork, readonly from: MemberId, readonly scope: Scope, readonly member: MemberId) {}

  /** Calls in flight (bounded: the simulator checks it during long partitions). */
  get outstanding(): number {
    return this.pending.size;
  }

  query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], signal: AbortSignal, rank?: number): Promise<QueryAnswer[]> {
    const want: ValueWant = { values: withValues, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true };
    return this.call('query', { addrs }, signal, this.net.options.requestDeadlineMs, (s) => s.query(addrs, want, rank) as QueryAnswer[]);
  }

  update(items: readonly RegisterItem[], signal: AbortSignal, rank?: number): Promise<void> {
    return this.call('update', { items }, signal, this.net.options.requestDeadlineMs, (s) => s.update(items, rank));
  }

  rmw(messages: readonly RmwMessage[], signal: AbortSignal, rank?: number): Promise<RmwAnswer[]> {
    // Messages travel as JSON, as over HTTP: the acceptor gets a copy.
    const copy = JSON.parse(JSON.stringify(messages)) as RmwMessage[];
    return this.call('rmw', { addrs: messages.map((m) => m.addr) }, signal, this.net.options.requestDeadlineMs, (s) => s.acceptRmw(copy, rank));
  }

  config(signal: AbortSignal): Promise<ConfigAnswer> {
    return this.call('config', {}, signal, CONFIG_DEADLINE_MS, (s) => served(s.config?.()));
  }

  pushConfig(state: unknown, signal: AbortSignal): Promise<ConfigAnswer> {
    // The state travels as JSON, as over HTTP: the receiver gets a copy.
    const copy = JSON.parse(JSON.stringify(state)) as unknown;
    return this.call('config', {}, signal, CONFIG_DEADLINE_MS, (s) => served(s.pushConfig?.(copy)));
  }

  paxos(message: PaxosMessage, signal: AbortSignal): Promise<unknown> {
    const copy = JSON.parse(JSON.stringify(message)) as PaxosMessage;
    return this.call('paxos', {}, signal, CONFIG_DEADLINE_MS, (s) => served(s.paxos?.(copy)));
  }

  ping(deadlineMs: number): Promise<PingReply> {
    return this.call('ping', {}, undefined, deadlineMs, (s) => s.ping());
  }

  acceptors(after: Addr | null, signal: AbortSignal, rank?: number): Promise<AcceptorPage> {
    return this.call('registers', {}, signal, this.net.options.registersDeadlineMs, (s) => JSON.parse(JSON.stringify(s.acceptorPage(after, rank))) as AcceptorPage);
  }

  mergeAcceptors(rows: AcceptorPage['items'], signal: AbortSignal, rank?: number): Promise<void> {
    const copy = JSON.parse(JSON.stringify(rows)) as AcceptorPage['items'];
    return this.call('registers', {}, signal, this.net.options.registersDeadlineMs, (s) => s.mergeAcceptors(copy, rank));
  }

  registers(after: Addr | null, signal: AbortSignal, rank?: number): Promise<RegisterPage> {
    return this.call('registers', {}, signal, this.net.options.registersDeadlineMs, (s) => s.registers(after, this.net.options.pageItems, rank));
  }

  changes(since: number, limit: number, values: boolean, signal: AbortSignal, rank?: number, log?: string): Promise<ChangeFeedPage> {
    // Pages with values (recovery) are small here, so recovery takes many pages, as with registers.
    const n = values ? Math.min(limit, this.net.options.pageItems) : limit;
    return this.call('changes', {}, signal, values ? this.net.options.registersDeadlineMs : limits.catchupRequestMs, (s) => s.changes(since, n, values, rank, this.from, log));
  }

  tags(after: Addr | null, signal: AbortSignal, rank?: number): Promise<TagPage> {
    return this.call('tags', {}, signal, limits.catchupRequestMs, (s) => s.tagPage(after, this.net.options.pageItems * 2, rank));
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  /** The connection broke: every call in flight fails now (and is retried by its caller). */
  reset(): void {
    for (const fail of [...this.pending]) fail(new Error(`connection to ${this.member} reset`));
  }

  private call<T>(
    kind: MessageKind, detail: Pick<Message, 'addrs' | 'items'>, signal: AbortSignal | undefined, deadlineMs: number,
    work: (server: PeerServer) => T | Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(new Error(`link to ${this.member} closed`));
        return;
      }
      // Like HttpLink, the signal is looked at, not listened to: a call on its way is left to
      // finish (or fail at its deadline), and closing the link fails every call at once.
      if (signal?.aborted) {
        reject(new Error(`link to ${this.member} is closed`));
        return;
      }
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        this.pending.delete(fail);
        this.scope.clearTimeout(timer);
        settle();
      };
      const fail = (err: Error): void => finish(() => reject(err));
      const timer = this.scope.setTimeout(() => fail(new Error(`${this.member} did not answer within ${deadlineMs} ms`)), deadlineMs);
      this.pending.add(fail);
      const request = { from: this.from, to: this.member, kind, ...detail };
      this.net.transmit(this.scope, request, () => {
        this.net.serve(this, request, work, (outcome) => {
          if (outcome.ok) finish(() => resolve(outcome.value));
          else fail(outcome.error);
        });
      });
    });
  }
}

