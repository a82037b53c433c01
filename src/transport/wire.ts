import { isAddr } from '../core/addr.js';
import { limits } from '../core/limits.js';
import type { RegisterPage } from '../core/recovery.js';
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

export function isTag(v: unknown): v is Tag {
  return isObject(v)
    && typeof v['seq'] === 'number' && Number.isSafeInteger(v['seq']) && v['seq'] >= 0
    && typeof v['writer'] === 'string' && v['writer'].length <= limits.writerIdCharsMax;
}

export function isVersioned(v: unknown): v is Versioned {
  return isObject(v) && isTag(v['tag']) && (typeof v['value'] === 'string' || v['value'] === null);
}

export function isRegisterItem(v: unknown): v is RegisterItem {
  return isVersioned(v) && isAddr((v as unknown as Record<string, unknown>)['addr']);
}

export function isQueryRequest(v: unknown): v is QueryRequest {
  return isObject(v) && Array.isArray(v['addrs']) && v['addrs'].length <= limits.batchItemsMax && v['addrs'].every(isAddr);
}

export function isUpdateRequest(v: unknown): v is UpdateRequest {
  return isObject(v) && Array.isArray(v['items']) && v['items'].length <= limits.batchItemsMax && v['items'].every(isRegisterItem);
}

export function isStreamRequest(v: unknown): v is StreamRequest {
  if (!isObject(v) || typeof v['id'] !== 'number' || !Number.isSafeInteger(v['id'])) return false;
  if (v['op'] === 'query') return isQueryRequest(v);
  if (v['op'] === 'update') return isUpdateRequest(v);
  return v['op'] === 'ping';
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
