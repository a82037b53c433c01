import got, { type Got } from 'got';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { memberUrl } from '../config/members.js';
import { HEADER_PEER_PROOF } from '../security/cluster-secret.js';
import type { TlsMaterial } from '../security/tls.js';
import type { Addr, MemberId, RegisterItem, Versioned } from '../core/types.js';
import { isRefusal, PeerRefusedError, type PeerLink } from './peer-link.js';
import type { RegisterPage } from '../core/recovery.js';
import { limits } from '../core/limits.js';
import { PeerStream } from './peer-stream.js';
import { HEADER_CLUSTER, HEADER_FROM, HEADER_MEMBERS, HEADER_NODE, HEADER_TO, PEER_PATHS, REGISTER_PAGE_ITEMS, isPingReply, isQueryReply, isRegisterPage, type PingReply } from './wire.js';

export interface HttpLinkOptions {
  readonly self: MemberId;
  readonly members: readonly MemberId[];
  readonly clusterId: string;
  /** This node's id, sent so that a member that is this node under another name refuses us. */
  readonly nodeId?: string;
  readonly requestDeadlineMs: number;
  /** Longest line accepted from the member's stream (its largest answer). */
  readonly streamLineCharsMax: number;
  /** Age at which the peer stream is renewed; limits.peerStreamRenewMs unless a test says. */
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

/**
 * A remote member's replica API over HTTP (got, keep-alive). Queries, updates and heartbeats
 * travel on a long-lived peer stream (peer-stream.ts), renewed every limits.peerStreamRenewMs
 * so no request outlives the member's HTTP request timeout; recovery pages are plain
 * requests. Each request has its own deadline; got's retries are off because retries belong
 * to the PeerChannel, which knows when the quorum no longer needs an answer.
 */
export class HttpLink implements PeerLink {
  private client!: Got;
  private agent!: Agent | HttpsAgent;
  private stream: PeerStream | undefined;
  /** Every stream not yet closed, the current one and those still finishing answers. */
  private readonly open = new Set<PeerStream>();
  private closed = false;

  constructor(readonly member: MemberId, private readonly options: HttpLinkOptions) {
    this.useCredentials(options.credentials ?? { tls: undefined, proof: undefined });
  }

  /**
   * Presents `credentials` from now on (certificate rotation): the current stream ends
   * after its answers and new requests go on a stream made with the new credentials.
   */
  setCredentials(credentials: PeerCredentials): void {
    const old = this.agent;
    this.useCredentials(credentials);
    this.stream?.end();
    this.stream = undefined;
    // Streams of the old agent finish their answers; its idle sockets go once they are due to renew.
    setTimeout(() => old.destroy(), limits.peerStreamRenewMs * 2).unref();
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
        [HEADER_MEMBERS]: this.options.members.join(','),
        [HEADER_FROM]: this.options.self,
        [HEADER_TO]: this.member,
        ...(this.options.nodeId === undefined ? {} : { [HEADER_NODE]: this.options.nodeId }),
        ...(c.proof === undefined ? {} : { [HEADER_PEER_PROOF]: c.proof }),
      },
    });
  }

  async query(addrs: readonly Addr[], signal: AbortSignal): Promise<Versioned[]> {
    const answer = await this.currentStream(signal).call({ op: 'query', addrs }, this.options.requestDeadlineMs);
    if (!isQueryReply(answer, addrs.length)) throw new Error(`malformed query answer from ${this.member}`);
    return answer.items as Versioned[];
  }

  async update(items: readonly RegisterItem[], signal: AbortSignal): Promise<void> {
    await this.currentStream(signal).call({ op: 'update', items }, this.options.requestDeadlineMs);
  }

  /**
   * Heartbeat over the peer stream: resolves with the peer's identity, rejects when it does
   * not answer within `deadlineMs` (which also drops the stream, so data requests move to a
   * fresh one). Measured on the path the data takes; as a got GET it cost 3-4 ms on an idle
   * node here, which status and top showed as the peer's round-trip time.
   */
  async ping(deadlineMs: number): Promise<PingReply> {
    const answer = await this.currentStream().call({ op: 'ping' }, deadlineMs);
    if (!isPingReply(answer.ping)) throw new Error(`malformed ping answer from ${this.member}`);
    return answer.ping;
  }

  /** One page of the peer's registers after `after` (wiped-node recovery). */
  async registers(after: Addr | null, signal: AbortSignal): Promise<RegisterPage> {
    const searchParams = { limit: REGISTER_PAGE_ITEMS, ...(after === null ? {} : { after }) };
    const res = await this.client.get(PEER_PATHS.registers.slice(1), { signal, searchParams, responseType: 'json', timeout: { request: 30_000 } });
    const body = this.check(res.statusCode, res.body);
    if (!isRegisterPage(body)) throw new Error(`malformed register page from ${this.member}`);
    return body;
  }

  close(): void {
    this.closed = true;
    for (const s of [...this.open]) s.destroy();
    this.agent.destroy();
  }

  /** The stream new requests go on: a fresh one when the last failed or is due for renewal. */
  private currentStream(signal?: AbortSignal): PeerStream {
    if (this.closed || signal?.aborted) throw new Error(`link to ${this.member} is closed`);
    const s = this.stream;
    if (s?.usable && Date.now() - s.openedMs < (this.options.streamRenewMs ?? limits.peerStreamRenewMs)) return s;
    s?.end();
    const fresh = new PeerStream(this.client, this.member, this.options.streamLineCharsMax, (done) => this.open.delete(done));
    this.open.add(fresh);
    this.stream = fresh;
    return fresh;
  }

  private check(status: number, body: unknown): unknown {
    if (status === 200) return body;
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (isRefusal(status, error?.code)) throw new PeerRefusedError(error?.message ?? `${this.member} refused this node (HTTP ${status})`);
    throw new Error(`${this.member} answered HTTP ${status}${error?.message ? `: ${error.message}` : ''}`);
  }
}
