import { isAddr } from '../core/addr.js';
import { limits } from '../core/limits.js';
import type { RegisterPage } from '../core/recovery.js';
import type { Addr, RegisterItem, Tag, Versioned } from '../core/types.js';

/**
 * The internal peer (replica) API. It may change between versions; every request carries
 * the sender's cluster identity so a node configured with another member set is refused.
 *
 *   POST /peer/query   {"addrs":[3,4]}                          -> {"items":[{"tag":..,"value":..},..]}
 *   POST /peer/update  {"items":[{"addr":3,"tag":..,"value":..}]} -> {"acked":1}
 *   GET  /peer/ping                                              -> PingReply
 *   GET  /peer/registers?after=A&limit=L                         -> RegisterPage (wiped-node recovery)
 */
export const PEER_PATHS = { query: '/peer/query', update: '/peer/update', ping: '/peer/ping', registers: '/peer/registers' } as const;

/** Registers per page of /peer/registers. */
export const REGISTER_PAGE_ITEMS = 1000;

/** Headers identifying the sender and its member set. */
export const HEADER_CLUSTER = 'x-shmem-cluster';
export const HEADER_MEMBERS = 'x-shmem-members';
export const HEADER_FROM = 'x-shmem-from';

export interface QueryRequest { readonly addrs: readonly Addr[] }
export interface QueryReply { readonly items: readonly Versioned[] }
export interface UpdateRequest { readonly items: readonly RegisterItem[] }
export interface UpdateReply { readonly acked: number }
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

export function isQueryReply(v: unknown, expected: number): v is QueryReply {
  return isObject(v) && Array.isArray(v['items']) && v['items'].length === expected && v['items'].every(isVersioned);
}

export function isRegisterPage(v: unknown): v is RegisterPage {
  return isObject(v) && typeof v['initialized'] === 'boolean' && Array.isArray(v['items']) && v['items'].every(isRegisterItem)
    && (v['next'] === null || isAddr(v['next']));
}
