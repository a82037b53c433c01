import { isAddr } from '../core/addr.js';
import { limits } from '../core/limits.js';
import type { RegisterPage } from '../core/recovery.js';
import { tagProblem } from '../core/tag.js';
import type { Addr, RegisterItem, Tag, Versioned } from '../core/types.js';

/**
 * The internal peer (replica) API. It may change between versions; every request carries
 * the sender's cluster identity so a node configured with another member set is refused.
 *
 *   POST /peer/stream  (application/x-ndjson, both ways, open for many requests)
 *        request lines  {"id":1,"op":"query","addrs":[3,4]}
 *                       {"id":2,"op":"update","items":[{"addr":3,"tag":..,"value":..}]}
 *                       {"id":3,"op":"ping"}                          (heartbeat)
 *        answer lines   {"id":1,"items":[{"tag":..,"value":..},..]}   (in the order of addrs)
 *                       {"id":2,"acked":1}                            (once durable)
 *                       {"id":3,"ping":PingReply}
 *                       {"id":2,"error":{"code":"recovering","message":".."}}
 *   GET  /peer/registers?after=A&limit=L           -> RegisterPage (wiped-node recovery)
 *
 * The stream is one long HTTP/1.1 POST whose request body carries requests and whose
 * response body carries the answers, matched by id and sent as soon as each is ready (an
 * update's after its commit), like etcd's long-lived peer streams. Measured per request on
 * the 2-core machine: ~55 us of CPU on both ends together, against ~550-850 us of client
 * CPU for one got request per batch; see the README's performance section.
 */
export const PEER_PATHS = { stream: '/peer/stream', registers: '/peer/registers' } as const;

/** Registers per page of /peer/registers. */
export const REGISTER_PAGE_ITEMS = 1000;

/** Headers identifying the sender and its member set. */
export const HEADER_CLUSTER = 'x-shmem-cluster';
export const HEADER_MEMBERS = 'x-shmem-members';
export const HEADER_FROM = 'x-shmem-from';
/** The sender's node id: a node refuses requests from itself (listed as its own peer under another name). */
export const HEADER_NODE = 'x-shmem-node';
/** The member the sender means to address: a node refuses requests addressed to another name of it. */
export const HEADER_TO = 'x-shmem-to';

export interface QueryRequest { readonly addrs: readonly Addr[] }
export interface QueryReply { readonly items: readonly Versioned[] }
export interface UpdateRequest { readonly items: readonly RegisterItem[] }

/** One request line of the peer stream. */
export type StreamRequest =
  | { readonly id: number; readonly op: 'query'; readonly addrs: readonly Addr[] }
  | { readonly id: number; readonly op: 'update'; readonly items: readonly RegisterItem[] }
  | { readonly id: number; readonly op: 'ping' };

/** One answer line of the peer stream; `id` is null only for an error that ends the stream. */
export interface StreamAnswer {
  readonly id: number | null;
  readonly items?: readonly Versioned[];
  readonly acked?: number;
  readonly ping?: PingReply;
  readonly error?: { readonly code: string; readonly message: string };
}
export interface PingReply {
  readonly member: string;
  readonly nodeId: string;
  readonly version: string;
  readonly clusterId: string;
  /** True while the member recovers a wiped data dir (it does not answer as a replica). */
  readonly recovering: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a tag a shmem write could have issued (core/tag.ts tagProblem). */
export function isTag(v: unknown): v is Tag {
  return isObject(v) && typeof v['seq'] === 'number' && typeof v['writer'] === 'string'
    && v['writer'].length <= limits.writerIdCharsMax && tagProblem(v as unknown as Tag, limits.tagSeqMax) === null;
}

/** A tag with its value; `null` only with the initial tag (no write ever sends one). */
export function isVersioned(v: unknown): v is Versioned {
  return versionedProblem(v, Number.POSITIVE_INFINITY) === null;
}

export function isRegisterItem(v: unknown): v is RegisterItem {
  return isVersioned(v) && isAddr((v as unknown as Record<string, unknown>)['addr']);
}

/** Why `v` is not a register a replica may store, or null. */
function versionedProblem(v: unknown, valueBytesMax: number): string | null {
  if (!isObject(v)) return 'an item is not an object';
  const tag = v['tag'];
  if (!isObject(tag) || typeof tag['seq'] !== 'number' || typeof tag['writer'] !== 'string') return 'an item has no tag {seq, writer}';
  if (tag['writer'].length > limits.writerIdCharsMax) return `a writer id is longer than ${limits.writerIdCharsMax} characters`;
  const problem = tagProblem(tag as unknown as Tag, limits.tagSeqMax);
  if (problem !== null) return problem;
  const value = v['value'];
  if (value === null) return tag['seq'] === 0 ? null : `value null with tag seq ${tag['seq']}: no write stores null`;
  if (typeof value !== 'string') return 'a value is not a string';
  if (!value.isWellFormed()) return 'a value holds a lone surrogate (not storable as UTF-8)';
  // UTF-8 is at most 3 bytes per UTF-16 unit: count bytes only for values that could be over.
  if (value.length * 3 > valueBytesMax && Buffer.byteLength(value, 'utf8') > valueBytesMax) {
    return `a value of ${Buffer.byteLength(value, 'utf8')} bytes is over the limit of ${valueBytesMax}`;
  }
  return null;
}

export function isQueryRequest(v: unknown): v is QueryRequest {
  return isObject(v) && Array.isArray(v['addrs']) && v['addrs'].length <= limits.batchItemsMax && v['addrs'].every(isAddr);
}

/** A stream request line after validation, or why it was refused (the refusal's metric label and message). */
export type ParsedStreamRequest =
  | { readonly ok: true; readonly request: StreamRequest }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

/** Kinds of refused peer input, the label of shmem_peer_refusals_total. */
export type RefusalReason = 'malformed' | 'batch_too_large' | 'bad_tag' | 'null_value' | 'value_too_large' | 'ping_flood';

/**
 * Checks one decoded request line of the peer stream, whoever sent it: shapes, batch sizes,
 * tags (tagProblem), null values and value sizes. Nothing of a refused line is applied.
 */
export function parseStreamRequest(v: unknown, valueBytesMax: number): ParsedStreamRequest {
  const refuse = (reason: RefusalReason, message: string): ParsedStreamRequest => ({ ok: false, reason, message });
  if (!isObject(v) || typeof v['id'] !== 'number' || !Number.isSafeInteger(v['id'])) return refuse('malformed', 'a request line has no integer id');
  if (v['op'] === 'ping') return { ok: true, request: v as unknown as StreamRequest };
  if (v['op'] === 'query') {
    const addrs = v['addrs'];
    if (!Array.isArray(addrs) || !addrs.every(isAddr)) return refuse('malformed', 'a query\'s addrs must be an array of addresses');
    if (addrs.length > limits.batchItemsMax) return refuse('batch_too_large', `a query of ${addrs.length} addresses is over the limit of ${limits.batchItemsMax}`);
    return { ok: true, request: v as unknown as StreamRequest };
  }
  if (v['op'] === 'update') {
    const items = v['items'];
    if (!Array.isArray(items)) return refuse('malformed', 'an update\'s items must be an array');
    if (items.length > limits.batchItemsMax) return refuse('batch_too_large', `an update of ${items.length} items is over the limit of ${limits.batchItemsMax}`);
    for (const item of items) {
      if (!isObject(item) || !isAddr(item['addr'])) return refuse('malformed', 'an update item has no valid addr');
      const problem = versionedProblem(item, valueBytesMax);
      if (problem === null) continue;
      const reason: RefusalReason = problem.startsWith('value null') ? 'null_value' : problem.includes('over the limit') ? 'value_too_large'
        : problem.startsWith('tag') || problem.startsWith('writer') || problem.includes('writer id') ? 'bad_tag' : 'malformed';
      return refuse(reason, `address ${item['addr']}: ${problem}`);
    }
    return { ok: true, request: v as unknown as StreamRequest };
  }
  return refuse('malformed', `unknown op ${JSON.stringify(v['op'])?.slice(0, 20)}`);
}

export function isStreamAnswer(v: unknown): v is StreamAnswer {
  return isObject(v) && (v['id'] === null || (typeof v['id'] === 'number' && Number.isSafeInteger(v['id'])));
}

export function isQueryReply(v: unknown, expected: number): v is QueryReply {
  return isObject(v) && Array.isArray(v['items']) && v['items'].length === expected && v['items'].every(isVersioned);
}

export function isPingReply(v: unknown): v is PingReply {
  return isObject(v) && typeof v['member'] === 'string' && typeof v['nodeId'] === 'string' && typeof v['version'] === 'string'
    && typeof v['clusterId'] === 'string' && typeof v['recovering'] === 'boolean';
}

export function isRegisterPage(v: unknown): v is RegisterPage {
  return isObject(v) && typeof v['initialized'] === 'boolean' && Array.isArray(v['items']) && v['items'].every(isRegisterItem)
    && (v['next'] === null || isAddr(v['next']));
}
