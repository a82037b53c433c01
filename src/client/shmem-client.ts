import got, { type Got, RequestError } from 'got';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Addr, Tag, Value } from '../core/types.js';
import {
  BadInputError, BadResponseError, MembershipMismatchError, NoEndpointError, PermissionDeniedError, QuorumUnavailableError, ShmemError,
  ShuttingDownError, UnauthenticatedError,
} from '../errors.js';
import { isTag } from '../transport/wire.js';

export interface ReadReply { readonly addr: Addr; readonly value: Value; readonly tag: Tag; readonly endpoint: string }
export interface WriteReply { readonly addr: Addr; readonly tag: Tag; readonly endpoint: string }

export interface ClientOptions {
  /** Base URLs, tried in order: `http://127.0.0.1:3030`, `https://10.0.0.1:3030`. */
  readonly endpoints: readonly string[];
  /** Deadline of one attempt against one endpoint. */
  readonly timeoutMs: number;
  /** PEM contents: the CA that signed the nodes' certificates, and our client certificate and key. */
  readonly tls?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined };
  /** Bearer token sent with every request (`shm.<id>.<secret>`). */
  readonly token?: string | undefined;
}

/** The error a node answered with (4xx, or a 5xx that another node will not fix). */
export class RemoteError extends ShmemError {
  override readonly name = 'RemoteError';
  readonly httpStatus = undefined;
  constructor(readonly code: string, message: string, readonly status: number, hint?: string) {
    super(message, hint === undefined ? undefined : { hint });
  }
}

/**
 * The shmem HTTP client used by the CLI (got, keep-alive). It fails over to the next
 * endpoint when one cannot be reached or answers 503 (no quorum there or shutting down):
 * another member may still be on the majority side. Input errors are not retried.
 */
export class ShmemClient {
  private readonly http: Got;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(private readonly options: ClientOptions) {
    const tls = options.tls;
    this.http = got.extend({
      agent: { http: this.agent, https: this.httpsAgent },
      https: { certificateAuthority: tls?.ca, certificate: tls?.cert, key: tls?.key, rejectUnauthorized: true },
      ...(options.token === undefined ? {} : { headers: { authorization: `Bearer ${options.token}` } }),
      retry: { limit: 0 },
      timeout: { request: options.timeoutMs },
      throwHttpErrors: false,
      responseType: 'json',
    });
  }

  async read(addr: Addr): Promise<ReadReply> {
    const { body, endpoint } = await this.call((base) => this.http.get(`${base}/read/${addr}`));
    const b = body as Record<string, unknown>;
    if (b['addr'] !== addr || !isTag(b['tag']) || !(typeof b['value'] === 'string' || b['value'] === null)) {
      throw new BadResponseError(`${endpoint} answered a read with an unexpected body`);
    }
    return { addr, value: b['value'], tag: b['tag'], endpoint };
  }

  async write(addr: Addr, value: string): Promise<WriteReply> {
    const { body, endpoint } = await this.call((base) => this.http.post(`${base}/write`, { json: { addr, value } }));
    const b = body as Record<string, unknown>;
    if (b['addr'] !== addr || !isTag(b['tag'])) throw new BadResponseError(`${endpoint} answered a write with an unexpected body`);
    return { addr, tag: b['tag'], endpoint };
  }

  /** GET a JSON document (for example /status) from the first endpoint that answers. */
  async getJson(path: string): Promise<{ body: unknown; endpoint: string }> {
    return this.call((base) => this.http.get(`${base}${path}`));
  }

  /** GET a JSON document from one endpoint, without failover (the dashboard asks every member). */
  async getJsonAt(endpoint: string, path: string): Promise<unknown> {
    const base = endpoint.replace(/\/+$/, '');
    let res: { statusCode: number; body: unknown };
    try {
      res = await this.http.get(`${base}${path}`);
    } catch (err) {
      throw new NoEndpointError(`${endpoint}: ${describeNetworkError(err)}`);
    }
    if (res.statusCode !== 200) throw remoteError(res.statusCode, res.body, endpoint);
    return res.body;
  }

  close(): void {
    this.agent.destroy();
    this.httpsAgent.destroy();
  }

  private async call(send: (base: string) => Promise<{ statusCode: number; body: unknown }>): Promise<{ body: unknown; endpoint: string }> {
    const failures: string[] = [];
    let lastUnavailable: ShmemError | undefined;
    for (const endpoint of this.options.endpoints) {
      const base = endpoint.replace(/\/+$/, '');
      let res: { statusCode: number; body: unknown };
      try {
        res = await send(base);
      } catch (err) {
        failures.push(`${endpoint}: ${describeNetworkError(err)}`);
        continue;
      }
      if (res.statusCode === 200) return { body: res.body, endpoint };
      const error = remoteError(res.statusCode, res.body, endpoint);
      if (res.statusCode !== 503) throw error;
      failures.push(`${endpoint}: ${error.message}`);
      lastUnavailable = error;
    }
    if (lastUnavailable && this.options.endpoints.length === 1) throw lastUnavailable;
    if (lastUnavailable) {
      throw new QuorumUnavailableError(`no endpoint could complete the operation:\n  ${failures.join('\n  ')}`, {
        hint: 'a majority of the members must be up and reachable',
      });
    }
    throw new NoEndpointError(`no endpoint answered:\n  ${failures.join('\n  ')}`, {
      hint: 'is a node running there? set --endpoints or SHMEM_ENDPOINTS',
    });
  }
}

function remoteError(status: number, body: unknown, endpoint: string): ShmemError {
  const e = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${status}`;
  const message = typeof e?.message === 'string' ? e.message : `${endpoint} answered HTTP ${status}`;
  const hint = typeof e?.hint === 'string' ? e.hint : undefined;
  const opts = hint === undefined ? undefined : { hint };
  switch (code) {
    case 'quorum_unavailable': return new QuorumUnavailableError(message, opts);
    case 'shutting_down': return new ShuttingDownError(message, opts);
    case 'membership_mismatch': return new MembershipMismatchError(message, opts);
    case 'unauthenticated': return new UnauthenticatedError(message, opts);
    case 'permission_denied': return new PermissionDeniedError(message, opts);
    case 'invalid_addr': case 'invalid_value': case 'value_too_large': case 'bad_json':
    case 'bad_content_type': case 'body_too_large': case 'bad_request':
      return new BadInputError(code, message, opts);
    default: return new RemoteError(code, message, status, hint);
  }
}

function describeNetworkError(err: unknown): string {
  if (err instanceof RequestError) {
    if (err.code === 'ECONNREFUSED') return 'connection refused';
    if (err.code === 'ETIMEDOUT') return 'timed out';
    if (err.code === 'EPROTO' && /wrong version number|packet length too long/i.test(err.message)) {
      return 'the node does not speak TLS on this port (use http://, or start the node with --tls-cert)';
    }
    if (/certificate|self.signed|UNABLE_TO_VERIFY|ERR_TLS/i.test(`${err.code} ${err.message}`)) {
      return `TLS: ${err.message} (give the cluster CA with --cacert, and --cert/--key if the node wants a client certificate)`;
    }
    return `${err.code ?? 'error'}: ${err.message}`;
  }
  return String(err);
}
