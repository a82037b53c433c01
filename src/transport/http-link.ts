import got, { type Got } from 'got';
import { Agent } from 'node:http';
import type { Addr, MemberId, RegisterItem, Versioned } from '../core/types.js';
import { PeerRefusedError, type PeerLink } from './peer-link.js';
import type { RegisterPage } from '../core/recovery.js';
import { HEADER_CLUSTER, HEADER_FROM, HEADER_MEMBERS, PEER_PATHS, REGISTER_PAGE_ITEMS, isQueryReply, isRegisterPage, type PingReply } from './wire.js';

export interface HttpLinkOptions {
  readonly self: MemberId;
  readonly members: readonly MemberId[];
  readonly clusterId: string;
  readonly requestDeadlineMs: number;
}

/**
 * A remote member's replica API over HTTP (got, keep-alive). Each request has its own
 * deadline; got's retries are off because retries belong to the PeerChannel, which knows
 * when the quorum no longer needs an answer.
 */
export class HttpLink implements PeerLink {
  private readonly client: Got;
  private readonly agent: Agent;

  constructor(readonly member: MemberId, options: HttpLinkOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1_000 });
    this.client = got.extend({
      prefixUrl: `http://${member}`,
      agent: { http: this.agent },
      retry: { limit: 0 },
      timeout: { request: options.requestDeadlineMs },
      throwHttpErrors: false,
      headers: {
        [HEADER_CLUSTER]: options.clusterId,
        [HEADER_MEMBERS]: options.members.join(','),
        [HEADER_FROM]: options.self,
      },
    });
  }

  async query(addrs: readonly Addr[], signal: AbortSignal): Promise<Versioned[]> {
    const body = await this.post(PEER_PATHS.query, { addrs }, signal);
    if (!isQueryReply(body, addrs.length)) throw new Error(`malformed query reply from ${this.member}`);
    return [...body.items];
  }

  async update(items: readonly RegisterItem[], signal: AbortSignal): Promise<void> {
    await this.post(PEER_PATHS.update, { items }, signal);
  }

  /** Heartbeat: resolves with the peer's identity, rejects when it does not answer. */
  async ping(signal: AbortSignal): Promise<PingReply> {
    const res = await this.client.get(PEER_PATHS.ping.slice(1), { signal, responseType: 'json' });
    return this.check(res.statusCode, res.body) as PingReply;
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
    this.agent.destroy();
  }

  private async post(path: string, json: unknown, signal: AbortSignal): Promise<unknown> {
    const res = await this.client.post(path.slice(1), { json, signal, responseType: 'json' });
    return this.check(res.statusCode, res.body);
  }

  private check(status: number, body: unknown): unknown {
    if (status === 200) return body;
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (status === 409 && error?.code === 'membership_mismatch') {
      throw new PeerRefusedError(error.message ?? `${this.member} refused this node's member set`);
    }
    throw new Error(`${this.member} answered HTTP ${status}${error?.message ? `: ${error.message}` : ''}`);
  }
}
