import got, { type Got } from 'got';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { memberUrl } from '../config/members.js';
import { limits } from '../core/limits.js';
import type { RegisterPage } from '../core/recovery.js';
import { isDeferred, type Addr, type MemberId, type QueryAnswer, type RegisterItem, type ReplicaAnswer } from '../core/types.js';
import { HEADER_PEER_PROOF } from '../security/cluster-secret.js';
import type { TlsMaterial } from '../security/tls.js';
import { valueSize } from '../core/value.js';
import { ByteGate } from './byte-gate.js';
import { isRefusal, PeerAnswerError, PeerRefusedError, type ConfigAnswer, type ConfigLink, type PaxosMessage } from './peer-link.js';

/** Configuration and Paxos requests are small; a member that takes longer is treated as not answering. */
const CONFIG_REQUEST_MS = 5_000;
/** A page of registers, changes or tags: at most a few MiB; a member that sends nothing for this long is asked again. */
const PAGE_REQUEST_MS = 30_000;
import { PeerStream } from './peer-stream.js';
import { HEADER_CLUSTER, HEADER_PROTOCOL, PEER_PROTOCOL, protocolProblem, HEADER_FROM, HEADER_MEMBERS, HEADER_NODE, HEADER_TO, PEER_PATHS, REGISTER_PAGE_ITEMS, decodeAcceptorPage, decodeChangeFeedPage, decodeTagPage, encodeRmwRequest, STREAM_TOO_LARGE, parseRmwAnswers, isPingReply, isRegisterPage, type PingReply, type StreamRequestBody } from './wire.js';
import type { ChangeFeedPage, TagPage } from '../core/catchup.js';
import type { AcceptorPage, RmwAnswer, RmwMessage } from '../core/rmw.js';

export interface HttpLinkOptions {
  readonly self: MemberId;
  /** The members this node counts now (sent for the refusal message of a node of another cluster). */
  readonly members: () => readonly MemberId[];
  readonly clusterId: string;
  /** This node's id, sent so that a member that is this node under another name refuses us. */
  readonly nodeId?: string;
  /** A stream with requests outstanding fails when nothing arrives for this long (--peer-deadline-ms). */
  readonly requestDeadlineMs: number;
  /** Largest value this cluster stores (bounds the raw bytes of an answer). */
  readonly valueBytesMax: number;
  /** Age at which the peer streams are renewed; limits.peerStreamRenewMs unless a test says. */
  readonly streamRenewMs?: number;
  /** How this node proves itself to members: its TLS certificate and/or the cluster secret's proof. */
  readonly credentials?: PeerCredentials;
}

/** What a link presents to the member: replaced on SIGHUP (rotation). */
export interface PeerCredentials {
  /** With TLS: https, our certificate as client certificate, the member CA to verify theirs. */
  readonly tls: TlsMaterial | undefined;
  /** HMAC proof of the cluster secret (security/cluster-secret.ts), or none. */
  readonly proof: string | undefined;
}

/** Counters of one link's bulk lane, for /status. */
export interface LinkStats {
  readonly bulkBytesInFlight: number;
  readonly bulkWaiting: number;
}

/** One lane: the stream its requests go on, replaced when it fails or is due for renewal. */
class Lane {
  private stream: PeerStream | undefined;

  constructor(private readonly open: () => PeerStream, private readonly renewMs: () => number) {}

  current(): PeerStream {
    const s = this.stream;
    if (s?.usable && Date.now() - s.openedMs < this.renewMs()) return s;
    s?.end();
    this.stream = this.open();
    return this.stream;
  }

  /** Ends the current stream after its answers (credentials changed). */
  retire(): void {
    this.stream?.end();
    this.stream = undefined;
  }
}

/**
 * A remote member's replica API over HTTP (got, keep-alive), on two long-lived peer streams
 * (docs/flow-control.md): the small lane (heartbeats, queries, small updates) and the bulk
 * lane (updates of big values, fetches of values deferred by a small answer), so heartbeats
 * and small operations never wait behind a big value's bytes. The bulk lane admits requests
 * through a ByteGate of limits.bulkInFlightBytesMax. Streams are renewed every
 * limits.peerStreamRenewMs so none outlives the member's HTTP request timeout; recovery
 * pages are plain requests. got's retries are off: retries belong to the PeerChannel, which
 * knows when the quorum no longer needs an answer.
 */
export class HttpLink implements ConfigLink {
  private client!: Got;
  private agent!: Agent | HttpsAgent;
  /** Every stream not yet closed: the lanes' current ones and those still finishing answers. */
  private readonly open = new Set<PeerStream>();
  private readonly small: Lane;
  private readonly bulk: Lane;
  private readonly gate = new ByteGate(limits.bulkInFlightBytesMax);
  private closed = false;

  constructor(readonly member: MemberId, private readonly options: HttpLinkOptions) {
    this.useCredentials(options.credentials ?? { tls: undefined, proof: undefined });
    const renewMs = (): number => options.streamRenewMs ?? limits.peerStreamRenewMs;
    this.small = new Lane(() => this.openStream(), renewMs);
    this.bulk = new Lane(() => this.openStream(), renewMs);
  }

  /**
   * Presents `credentials` from now on (certificate rotation): the current streams end
   * after their answers and new requests go on streams made with the new credentials.
   */
  setCredentials(credentials: PeerCredentials): void {
    const old = this.agent;
    this.useCredentials(credentials);
    this.small.retire();
    this.bulk.retire();
    // Streams of the old agent finish their answers; its idle sockets go once they are due to renew.
    setTimeout(() => old.destroy(), limits.peerStreamRenewMs * 2).unref();
  }

  stats(): LinkStats {
    return { bulkBytesInFlight: this.gate.bytesInFlight, bulkWaiting: this.gate.waiting };
  }

  async query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], signal: AbortSignal, rank?: number): Promise<QueryAnswer[]> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const cfg = rank === undefined ? {} : { cfg: rank };
    const answer = await this.call(this.small, { op: 'query', addrs, values: withValues, budget: limits.smallAnswerValueBytesMax, ...cfg }, signal);
    const items = answer.items!;
    // Only wanted values are ever deferred.
    return (items.some(isDeferred) ? await this.fetchDeferred(addrs, [...items], signal, rank) : items) as QueryAnswer[];
  }

  /**
   * Replaces every deferred answer with the value, fetched on the bulk lane. A fetched pair may
   * be newer than the tag first answered (the member moved on): it is still the member's state
   * at a moment during this query, which is all a query answer must be.
   */
  private async fetchDeferred(addrs: readonly Addr[], items: ReplicaAnswer[], signal: AbortSignal, rank: number | undefined): Promise<ReplicaAnswer[]> {
    for (;;) {
      const waiting = items.flatMap((a, i) => (isDeferred(a) ? [i] : []));
      if (waiting.length === 0) return items;
      // One bulk request at a time per query, as large as its budget: each makes progress (oversize).
      let bytes = 0;
      const batch: number[] = [];
      for (const i of waiting) {
        const size = (items[i] as { deferredBytes: number }).deferredBytes;
        if (batch.length > 0 && bytes + size > limits.bulkAnswerValueBytesMax) break;
        batch.push(i);
        bytes += size;
      }
      const release = await this.gate.acquire(bytes);
      try {
        const answer = await this.call(this.bulk, {
          op: 'query', addrs: batch.map((i) => addrs[i]!), values: true, budget: limits.bulkAnswerValueBytesMax, oversize: true,
          ...(rank === undefined ? {} : { cfg: rank }),
        }, signal);
        answer.items!.forEach((a, k) => (items[batch[k]!] = a));
      } finally {
        release();
      }
    }
  }

  async update(items: readonly RegisterItem[], signal: AbortSignal, rank?: number): Promise<void> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const cfg = rank === undefined ? {} : { cfg: rank };
    const small: RegisterItem[] = [];
    const big: RegisterItem[] = [];
    for (const item of items) (valueSize(item.value) >= limits.bulkValueBytesMin ? big : small).push(item);
    const sends: Promise<unknown>[] = [];
    if (small.length > 0) sends.push(this.call(this.small, { op: 'update', items: small, ...cfg }, signal));
    // Big values in bulk requests of at most one batch's bytes each, admitted by the gate.
    let batch: RegisterItem[] = [];
    let bytes = 0;
    const sendBatch = (b: RegisterItem[], n: number): void => {
      sends.push(this.gate.acquire(n).then(async (release) => {
        try {
          await this.call(this.bulk, { op: 'update', items: b, ...cfg }, signal);
        } finally {
          release();
        }
      }));
    };
    for (const item of big) {
      const size = valueSize(item.value);
      if (batch.length > 0 && bytes + size > limits.batchValueBytesMax) {
        sendBatch(batch, bytes);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += size;
    }
    if (batch.length > 0) sendBatch(batch, bytes);
    await Promise.all(sends);
  }

  /**
   * Heartbeat on the small lane: resolves with the peer's identity, rejects when it does not
   * answer within `deadlineMs` (which also drops the stream, so data requests move to a
   * fresh one). Measured on the path the small requests take.
   */
  async ping(deadlineMs: number): Promise<PingReply> {
    const answer = await this.small.current().call({ op: 'ping' }, deadlineMs);
    if (!isPingReply(answer.ping)) throw new Error(`malformed ping answer from ${this.member}`);
    // A member of another version is never asked anything (it may accept our requests: one of
    // protocol 1 ignores the protocol header, and would store an rmw result without its rmwc).
    this.otherVersion = protocolProblem(this.member, answer.ping.protocol);
    this.versionKnown = true;
    if (this.otherVersion !== undefined) throw new PeerRefusedError(this.otherVersion);
    return answer.ping;
  }

  /** Set by the first ping answer: why this member must not be asked anything (another peer protocol). */
  private otherVersion: string | undefined;
  private versionKnown = false;

  /**
   * Before the first request of any kind: a ping, to learn the member's peer protocol (once;
   * a member that does not answer fails the request as it would anyway).
   */
  private async sameVersion(): Promise<void> {
    if (!this.versionKnown) await this.ping(PAGE_REQUEST_MS);
    if (this.otherVersion !== undefined) throw new PeerRefusedError(this.otherVersion);
  }

  async changes(since: number, limit: number, values: boolean, signal: AbortSignal, rank?: number, log?: string): Promise<ChangeFeedPage> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const searchParams = { since, limit, values: values ? 1 : 0, ...(log === undefined ? {} : { log }), ...(rank === undefined ? {} : { cfg: rank }) };
    const res = await this.client.get(PEER_PATHS.changes.slice(1), { signal, searchParams, responseType: 'json', timeout: { request: values ? PAGE_REQUEST_MS : limits.catchupRequestMs } });
    const page = decodeChangeFeedPage(this.check(res.statusCode, res.body));
    if (typeof page === 'string') throw new Error(`malformed change feed page from ${this.member}: ${page}`);
    return page;
  }

  async tags(after: Addr | null, signal: AbortSignal, rank?: number): Promise<TagPage> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const searchParams = { limit: limits.catchupPageItems, ...(after === null ? {} : { after }), ...(rank === undefined ? {} : { cfg: rank }) };
    const res = await this.client.get(PEER_PATHS.tags.slice(1), { signal, searchParams, responseType: 'json', timeout: { request: limits.catchupRequestMs } });
    const page = decodeTagPage(this.check(res.statusCode, res.body));
    if (typeof page === 'string') throw new Error(`malformed tag page from ${this.member}: ${page}`);
    return page;
  }

  async acceptors(after: Addr | null, signal: AbortSignal, rank?: number): Promise<AcceptorPage> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const searchParams = { ...(after === null ? {} : { after }), ...(rank === undefined ? {} : { cfg: rank }) };
    const res = await this.client.get(PEER_PATHS.acceptors.slice(1), { signal, searchParams, responseType: 'json', timeout: { request: PAGE_REQUEST_MS } });
    const page = decodeAcceptorPage(this.check(res.statusCode, res.body));
    if (typeof page === 'string') throw new Error(`malformed acceptor page from ${this.member}: ${page}`);
    return page;
  }

  async mergeAcceptors(rows: AcceptorPage['items'], signal: AbortSignal, rank?: number): Promise<void> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const res = await this.client.post(PEER_PATHS.acceptors.slice(1), { signal, json: { items: rows, ...(rank === undefined ? {} : { cfg: rank }) }, responseType: 'json', timeout: { request: PAGE_REQUEST_MS } });
    this.check(res.statusCode, res.body);
  }

  /** One page of the peer's registers after `after` (a state transfer). */
  async registers(after: Addr | null, signal: AbortSignal, rank?: number): Promise<RegisterPage> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const searchParams = { limit: REGISTER_PAGE_ITEMS, ...(after === null ? {} : { after }), ...(rank === undefined ? {} : { cfg: rank }) };
    const res = await this.client.get(PEER_PATHS.registers.slice(1), { signal, searchParams, responseType: 'json', timeout: { request: PAGE_REQUEST_MS } });
    const body = this.check(res.statusCode, res.body);
    if (!isRegisterPage(body)) throw new Error(`malformed register page from ${this.member}`);
    return body;
  }

  /** Asked by a node that joins too (its cluster id is still JOINING_CLUSTER_ID, so it cannot ping): no version check. */
  async config(signal: AbortSignal): Promise<ConfigAnswer> {
    const res = await this.client.get(PEER_PATHS.config.slice(1), { signal, responseType: 'json', timeout: { request: CONFIG_REQUEST_MS } });
    return this.configAnswer(this.check(res.statusCode, res.body));
  }

  async pushConfig(state: unknown, signal: AbortSignal): Promise<ConfigAnswer> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const res = await this.client.post(PEER_PATHS.config.slice(1), { signal, json: { state }, responseType: 'json', timeout: { request: CONFIG_REQUEST_MS } });
    return this.configAnswer(this.check(res.statusCode, res.body));
  }

  /**
   * An rmw batch with small values rides the small lane of the peer stream (a POST per round
   * cost an add about 2 ms of each of its three rounds); one with a large value, and any
   * message whose answer would carry one, goes over POST /peer/rmw.
   */
  async rmw(messages: readonly RmwMessage[], signal: AbortSignal, rank?: number): Promise<RmwAnswer[]> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const small = messages.every((m) => m.op === 'prepare' || (m.item.value?.length ?? 0) <= limits.inlineValueCharsMax);
    if (!small) return this.postRmw(messages, signal, rank);
    const answer = await this.call(this.small, { op: 'rmw', messages, ...(rank === undefined ? {} : { cfg: rank }) }, signal);
    const answers = [...answer.rmw!];
    const again = answers.flatMap((a, i) => ('unavailable' in a && a.unavailable === STREAM_TOO_LARGE ? [i] : []));
    if (again.length > 0) {
      const more = await this.postRmw(again.map((i) => messages[i]!), signal, rank);
      again.forEach((i, k) => (answers[i] = more[k]!));
    }
    return answers;
  }

  private async postRmw(messages: readonly RmwMessage[], signal: AbortSignal, rank?: number): Promise<RmwAnswer[]> {
    const res = await this.client.post(PEER_PATHS.rmw.slice(1), { signal, json: encodeRmwRequest(messages, rank), responseType: 'json', timeout: { request: PAGE_REQUEST_MS } });
    const answers = parseRmwAnswers(this.check(res.statusCode, res.body), messages.length);
    if (typeof answers === 'string') throw new Error(`malformed rmw answer from ${this.member}: ${answers}`);
    return answers;
  }

  async paxos(message: PaxosMessage, signal: AbortSignal): Promise<unknown> {
    if (!this.versionKnown || this.otherVersion !== undefined) await this.sameVersion();
    const res = await this.client.post(PEER_PATHS.paxos.slice(1), { signal, json: message, responseType: 'json', timeout: { request: CONFIG_REQUEST_MS } });
    return this.check(res.statusCode, res.body);
  }

  private configAnswer(body: unknown): ConfigAnswer {
    const b = body as Record<string, unknown> | null;
    if (typeof b !== 'object' || b === null || typeof b['clusterId'] !== 'string' || typeof b['nodeId'] !== 'string' || b['state'] === undefined) {
      throw new Error(`malformed configuration answer from ${this.member}`);
    }
    return { clusterId: b['clusterId'], nodeId: b['nodeId'], state: b['state'] };
  }

  close(): void {
    this.closed = true;
    this.gate.close(new Error(`link to ${this.member} is closed`));
    for (const s of [...this.open]) s.destroy();
    this.agent.destroy();
  }

  private call(lane: Lane, body: StreamRequestBody, signal: AbortSignal): ReturnType<PeerStream['call']> {
    if (this.closed || signal.aborted) return Promise.reject(new Error(`link to ${this.member} is closed`));
    return lane.current().call(body);
  }

  private openStream(): PeerStream {
    const stream = new PeerStream(this.client, {
      member: this.member,
      progressDeadlineMs: this.options.requestDeadlineMs,
      headerBytesMax: limits.frameHeaderBytesMax,
      rawBytesMax: Math.max(this.options.valueBytesMax, limits.bulkAnswerValueBytesMax),
    }, (done) => this.open.delete(done));
    this.open.add(stream);
    return stream;
  }

  private useCredentials(c: PeerCredentials): void {
    const keepAlive = { keepAlive: true, maxSockets: 64, keepAliveMsecs: 1_000 };
    this.agent = c.tls === undefined ? new Agent(keepAlive) : new HttpsAgent(keepAlive);
    this.client = got.extend({
      prefixUrl: memberUrl(this.member, c.tls !== undefined),
      agent: c.tls === undefined ? { http: this.agent as Agent } : { https: this.agent as HttpsAgent },
      ...(c.tls === undefined ? {} : {
        https: { certificate: c.tls.cert, key: c.tls.key, certificateAuthority: c.tls.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const },
      }),
      retry: { limit: 0 },
      throwHttpErrors: false,
      headers: {
        [HEADER_CLUSTER]: this.options.clusterId,
        [HEADER_PROTOCOL]: String(PEER_PROTOCOL),
        [HEADER_MEMBERS]: this.options.members().join(',').slice(0, 2000),
        [HEADER_FROM]: this.options.self,
        [HEADER_TO]: this.member,
        ...(this.options.nodeId === undefined ? {} : { [HEADER_NODE]: this.options.nodeId }),
        ...(c.proof === undefined ? {} : { [HEADER_PEER_PROOF]: c.proof }),
      },
    });
  }

  private check(status: number, body: unknown): unknown {
    if (status === 200) return body;
    const error = (body as { error?: { code?: string; message?: string; state?: unknown } } | undefined)?.error;
    if (isRefusal(status, error?.code)) throw new PeerRefusedError(error?.message ?? `${this.member} refused this node (HTTP ${status})`);
    if (typeof error?.code === 'string') throw new PeerAnswerError(this.member, error.code, String(error.message ?? `HTTP ${status}`).slice(0, 500), error.state);
    throw new Error(`${this.member} answered HTTP ${status}${error?.message ? `: ${error.message}` : ''}`);
  }
}
