import type { Addr, Tag, Value } from '../core/types.js';
import {
  BadInputError, BadResponseError, ChangeRefusedError, MembershipMismatchError, NoEndpointError, OutcomeUnknownError, OverloadedError, PermissionDeniedError, QuorumUnavailableError,
  ShmemError, ShuttingDownError, UnauthenticatedError,
} from '../errors.js';
import { isTag } from '../transport/wire.js';
import { exchange } from './http1.js';

export interface ReadReply { readonly addr: Addr; readonly value: Value; readonly tag: Tag; readonly endpoint: string }
export interface WriteReply { readonly addr: Addr; readonly tag: Tag; readonly endpoint: string }
/** A compare-and-set or add that took effect: the value stored (add: the new count) and its tag. */
export interface RmwReply { readonly addr: Addr; readonly value: string; readonly tag: Tag; readonly endpoint: string }

export interface ClientOptions {
  /** Base URLs, tried in order: `http://127.0.0.1:3030`, `https://10.0.0.1:3030`. */
  readonly endpoints: readonly string[];
  /** Deadline of one attempt against one endpoint (the operation's answer included). */
  readonly timeoutMs: number;
  /**
   * Deadline for one endpoint to show it is alive: connected (TLS included) and its server
   * answered "100 Continue" to the request's headers. A dead or stopped node is passed this
   * quickly, while a slow operation still has `timeoutMs`.
   */
  readonly connectTimeoutMs?: number;
  /** PEM contents: the CA that signed the nodes' certificates, and our client certificate and key. */
  readonly tls?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined };
  /** Bearer token sent with every request (`shm.<id>.<secret>`). */
  readonly token?: string | undefined;
}

/** The error a node answered with (4xx, or a 5xx that another node will not fix). */
export class RemoteError extends ShmemError {
  override readonly name = 'RemoteError';
  readonly httpStatus = undefined;
  constructor(readonly code: string, message: string, readonly status: number, hint?: string, readonly current?: { value: Value; tag: Tag }) {
    super(message, hint === undefined ? undefined : { hint });
  }
}

/** Longest answer the client reads (a status document, a 64 MiB value JSON-escaped). */
const ANSWER_BYTES_MAX = 512 * 1024 * 1024;
const CONNECT_TIMEOUT_MS_DEFAULT = 1_000;

/**
 * The shmem HTTP client of the CLI and the dashboard, on one HTTP/1.1 exchange per request
 * (http1.ts: got's machinery cost a CLI call ~100 ms of start-up, node:http's ~9 ms; the
 * daemon's peer links keep got). It fails over to the next
 * endpoint when one cannot be reached or shows no sign of life (`connectTimeoutMs`, 1 s by default) or
 * answers 503 (no quorum there, shutting down, overloaded): another member may still serve.
 * Input errors are not retried.
 */
export class ShmemClient {
  constructor(private readonly options: ClientOptions) {}

  async read(addr: Addr): Promise<ReadReply> {
    const { body, endpoint } = await this.call('GET', `/read/${addr}`);
    const b = body as Record<string, unknown>;
    if (b['addr'] !== addr || !isTag(b['tag']) || !(typeof b['value'] === 'string' || b['value'] === null)) {
      throw new BadResponseError(`${endpoint} answered a read with an unexpected body`);
    }
    return { addr, value: b['value'], tag: b['tag'], endpoint };
  }

  /**
   * Moves on to the next endpoint only while the write certainly did not happen (no connection,
   * a 503); a write whose request went out and whose answer was lost is outcome_unknown, never
   * sent a second time: the first may still land (docs/rmw.md, "Definite and indefinite failures").
   */
  async write(addr: Addr, value: string): Promise<WriteReply> {
    const answer = await this.attempt('POST', '/write', JSON.stringify({ addr, value }), this.options.endpoints, true);
    if ('lost' in answer) {
      throw new OutcomeUnknownError(`${answer.endpoint}: the write was sent and its answer was lost (${answer.lost}); it may or may not take effect`, {
        hint: 'read the address to see whether it took effect before writing again',
      });
    }
    const { body, endpoint } = answer;
    const b = body as Record<string, unknown>;
    if (b['addr'] !== addr || !isTag(b['tag'])) throw new BadResponseError(`${endpoint} answered a write with an unexpected body`);
    return { addr, tag: b['tag'], endpoint };
  }

  /**
   * Compare-and-set: stores `value` if the address holds `expect` (a value, or null: never
   * written) or the tag `expect.tag`. A mismatch is ChangeRefusedError (code cas_mismatch) with
   * the current value and tag. Sent once, as a write (a lost answer is outcome_unknown).
   */
  async cas(addr: Addr, expect: { readonly value: Value } | { readonly tag: Tag }, value: string): Promise<RmwReply> {
    const body = 'tag' in expect ? { addr, expectTag: expect.tag, value } : { addr, expect: expect.value, value };
    const { b, endpoint } = await this.rmw('/cas', body, 'compare-and-set');
    if (b['ok'] !== true) throw new BadResponseError(`${endpoint} answered a compare-and-set with an unexpected body`);
    return { addr, value, tag: b['tag'] as Tag, endpoint };
  }

  /** Adds `delta` to the decimal integer at `addr` (never written: 0); the new value. Refusals are ChangeRefusedError. */
  async add(addr: Addr, delta: number): Promise<RmwReply> {
    const { b, endpoint } = await this.rmw('/add', { addr, delta }, 'add');
    if (typeof b['value'] !== 'string') throw new BadResponseError(`${endpoint} answered an add with an unexpected body`);
    return { addr, value: b['value'], tag: b['tag'] as Tag, endpoint };
  }

  private async rmw(path: string, body: Record<string, unknown> & { addr: Addr }, what: string): Promise<{ b: Record<string, unknown>; endpoint: string }> {
    let answer;
    try {
      answer = await this.attempt('POST', path, JSON.stringify(body), this.options.endpoints, true);
    } catch (err) {
      if (err instanceof RemoteError && err.status === 409 && err.current !== undefined) {
        throw new ChangeRefusedError(err.code as 'cas_mismatch', err.message, body.addr, err.current);
      }
      throw err;
    }
    if ('lost' in answer) {
      throw new OutcomeUnknownError(`${answer.endpoint}: the ${what} was sent and its answer was lost (${answer.lost}); it may or may not take effect`, {
        hint: 'read the address to see whether it took effect before trying again',
      });
    }
    const b = answer.body as Record<string, unknown>;
    if (b['addr'] !== body.addr || !isTag(b['tag'])) throw new BadResponseError(`${answer.endpoint} answered a ${what} with an unexpected body`);
    return { b, endpoint: answer.endpoint };
  }

  /** POST a JSON body (for example a member change) to the first endpoint that answers. */
  async postJson(path: string, body: unknown): Promise<{ body: unknown; endpoint: string }> {
    return this.call('POST', path, JSON.stringify(body));
  }

  /** GET a JSON document (for example /status) from the first endpoint that answers; those in `askLast` are tried last. */
  async getJson(path: string, askLast: readonly string[] = []): Promise<{ body: unknown; endpoint: string }> {
    const order = [...this.options.endpoints.filter((e) => !askLast.includes(e)), ...this.options.endpoints.filter((e) => askLast.includes(e))];
    return this.call('GET', path, undefined, order);
  }

  /** GET a JSON document from one endpoint, without failover (the dashboard asks every member). */
  async getJsonAt(endpoint: string, path: string): Promise<unknown> {
    const base = endpoint.replace(/\/+$/, '');
    let res: { status: number; body: unknown };
    try {
      res = await this.send('GET', `${base}${path}`);
    } catch (err) {
      throw new NoEndpointError(`${endpoint}: ${(err as Error).message}`);
    }
    if (res.status !== 200) throw remoteError(res.status, res.body, endpoint);
    return res.body;
  }

  /** POST a JSON body to one endpoint, without failover (`shmem repair` asks every member). */
  async postJsonAt(endpoint: string, path: string, body: unknown): Promise<unknown> {
    const base = endpoint.replace(/\/+$/, '');
    let res: { status: number; body: unknown };
    try {
      res = await this.send('POST', `${base}${path}`, JSON.stringify(body));
    } catch (err) {
      throw new NoEndpointError(`${endpoint}: ${(err as Error).message}`);
    }
    if (res.status !== 200) throw remoteError(res.status, res.body, endpoint);
    return res.body;
  }

  /**
   * POST a JSON body that must not be sent twice (a member change): to the endpoints in order,
   * moving on only while it certainly did not happen (no connection, or a 503 that says the node
   * refused); once it was sent and its answer is lost, resolves with `lost` instead of trying the
   * next endpoint, which would ask for the change a second time.
   */
  async postOnce(path: string, body: unknown): Promise<{ body: unknown; endpoint: string } | { lost: string; endpoint: string }> {
    return this.attempt('POST', path, JSON.stringify(body), this.options.endpoints, true);
  }

  /** Nothing is kept between requests (one connection each); kept for the callers' symmetry. */
  close(): void {}

  private async call(method: 'GET' | 'POST', path: string, body?: string, endpoints: readonly string[] = this.options.endpoints): Promise<{ body: unknown; endpoint: string }> {
    return await this.attempt(method, path, body, endpoints, false) as { body: unknown; endpoint: string };
  }

  /**
   * The endpoints in order until one answers 200: past those it cannot reach and those that
   * answer 503 (another member may still serve); any other answer is the outcome. With
   * `stopWhenSent`, a request that was written and then lost its answer stops there (`lost`).
   */
  private async attempt(method: 'GET' | 'POST', path: string, body: string | undefined, endpoints: readonly string[], stopWhenSent: boolean):
    Promise<{ body: unknown; endpoint: string } | { lost: string; endpoint: string }> {
    const failures: string[] = [];
    let lastUnavailable: ShmemError | undefined;
    for (const endpoint of endpoints) {
      const base = endpoint.replace(/\/+$/, '');
      let res: { status: number; body: unknown };
      try {
        res = await this.send(method, `${base}${path}`, body);
      } catch (err) {
        if (stopWhenSent && (err as { sent?: boolean }).sent === true) return { lost: (err as Error).message, endpoint };
        failures.push(`${endpoint}: ${(err as Error).message}`);
        continue;
      }
      if (res.status === 200) return { body: res.body, endpoint };
      const error = remoteError(res.status, res.body, endpoint);
      if (res.status !== 503) throw error;
      failures.push(`${endpoint}: ${error.message}`);
      lastUnavailable = error;
    }
    if (lastUnavailable && this.options.endpoints.length === 1) throw lastUnavailable;
    if (lastUnavailable) {
      throw new QuorumUnavailableError(`no endpoint could complete the operation:\n  ${failures.join('\n  ')}`, {
        hint: lastUnavailable.hint ?? 'a majority of the members must be up and reachable',
      });
    }
    throw new NoEndpointError(`no endpoint answered:\n  ${failures.join('\n  ')}`, {
      hint: 'is a node running there? set --endpoints or SHMEM_ENDPOINTS',
    });
  }

  /** One request to one URL within the alive and attempt deadlines; the status and the parsed JSON body. */
  private async send(method: 'GET' | 'POST', url: string, body?: string): Promise<{ status: number; body: unknown }> {
    let res;
    try {
      res = await exchange({
        method, url: new URL(url), body, tls: this.options.tls,
        headers: {
          accept: 'application/json',
          // The node's HTTP server answers "100 Continue" as soon as it reads the headers: proof
          // that the process is alive, long before a slow operation answers. A stopped or hung
          // node never sends it, so the client moves on after connectTimeoutMs, not timeoutMs.
          expect: '100-continue',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` }),
        },
        timeoutMs: this.options.timeoutMs,
        aliveMs: Math.min(this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT, this.options.timeoutMs),
        bodyBytesMax: ANSWER_BYTES_MAX,
      });
    } catch (err) {
      // Whether the request was written goes with it: postOnce must not send a change twice.
      throw Object.assign(new Error(describeNetworkError(err)), { sent: (err as { sent?: boolean }).sent === true });
    }
    const text = res.body.toString('utf8');
    let parsed: unknown = text;
    if (/json/.test(res.headers['content-type'] ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error('the answer is not valid JSON');
      }
    }
    return { status: res.status, body: parsed };
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
    case 'outcome_unknown': return new OutcomeUnknownError(message, opts);
    case 'shutting_down': return new ShuttingDownError(message, opts);
    case 'overloaded': return new OverloadedError(message, opts);
    case 'membership_mismatch': return new MembershipMismatchError(message, opts);
    case 'unauthenticated': return new UnauthenticatedError(message, opts);
    case 'permission_denied': return new PermissionDeniedError(message, opts);
    case 'invalid_addr': case 'invalid_value': case 'value_too_large': case 'bad_json':
    case 'bad_content_type': case 'body_too_large': case 'bad_request':
      return new BadInputError(code, message, opts);
    default: {
      // A refused compare-and-set or add says what it read.
      const current = (body as { current?: { value?: unknown; tag?: unknown } } | undefined)?.current;
      const valid = current !== undefined && isTag(current.tag) && (typeof current.value === 'string' || current.value === null);
      return new RemoteError(code, message, status, hint, valid ? { value: current.value as Value, tag: current.tag as Tag } : undefined);
    }
  }
}

/** A network error of one attempt, in words that say what to do. */
function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === undefined) return e.message;
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ECONNRESET') return 'the connection was reset';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `host not found (${e.code})`;
  if (e.code === 'EPROTO' && /wrong version number|packet length too long/i.test(e.message)) {
    return 'the node does not speak TLS on this port (use http://, or start the node with --tls-cert)';
  }
  if (/certificate|self.signed|UNABLE_TO_VERIFY|ERR_TLS|CERT_/i.test(`${e.code} ${e.message}`)) {
    return `TLS: ${e.message} (give the cluster CA with --cacert, and --cert/--key if the node wants a client certificate)`;
  }
  return `${e.code ?? 'error'}: ${e.message}`;
}
