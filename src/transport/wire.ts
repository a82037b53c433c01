import { isAddr } from '../core/addr.js';
import { limits } from '../core/limits.js';
import type { ChangeFeedPage, TagPage } from '../core/catchup.js';
import type { RegisterPage } from '../core/recovery.js';
import { toAcceptorState } from '../membership/config-store.js';
import { formatTag, tagProblem, tagsEqual, WRITER_ID_PATTERN, ZERO_TAG } from '../core/tag.js';
import type { Acceptance, AcceptorPage, AcceptorRow, Ballot, RmwAnswer, RmwMessage } from '../core/rmw.js';
import { parseAcceptorRow } from '../storage/checksums.js';
import { wantsValue, type Addr, type RegisterItem, type ReplicaAnswer, type Tag, type Versioned } from '../core/types.js';
import { decodeRawValue, encodeFrame, utf8Of, type EncodedFrame, type Frame } from './frames.js';

/**
 * The internal peer (replica) API. It may change between versions; every request carries
 * the sender's cluster identity so a node configured with another member set is refused.
 *
 *   POST /peer/stream  (application/x-shmem-frames, both ways, open for many requests)
 *     A frame is a JSON header line, then `raw` bytes if the header says "raw": N (frames.ts).
 *     Values up to limits.inlineValueCharsMax characters ride inline ("value": "..."); longer
 *     ones as raw UTF-8 after the header ("bytes": n, in item order).
 *        request   {"id":1,"op":"query","addrs":[3,4],"values":false}                (tags only: a write)
 *                  {"id":2,"op":"query","addrs":[3],"values":true,"budget":262144}   (values up to a budget)
 *                  {"id":5,"op":"query","addrs":[3,4],"values":[true,false],"budget":262144}  (per address)
 *                  {"id":3,"op":"update","items":[{"addr":3,"tag":..,"value":".."}]}
 *                  {"id":4,"op":"ping"}                                             (heartbeat)
 *        answer    {"id":1,"items":[{"tag":..},..]}                                 (in the order of addrs)
 *                  {"id":2,"items":[{"tag":..,"value":".."},{"tag":..,"deferred":1048576},{"unavailable":"damaged"}]}
 *                  {"id":3,"acked":1}                                               (once durable)
 *                  {"id":4,"ping":PingReply}
 *                  {"id":3,"error":{"code":"recovering","message":".."}}
 *                  {"id":null,"error":{..}}                                          (ends the stream: bad input)
 *   GET  /peer/registers?after=A&limit=L[&cfg=R]   -> RegisterPage (a state transfer)
 *   GET  /peer/changes?since=P&limit=L&values=0|1[&log=X][&cfg=R]
 *        -> {"initialized":true,"log":"..","head":H,"next":P'|null,"oldestAgeMs":..,"tags":[[addr,seq,"writer"],..]}
 *           (values=1: "items":[RegisterItem..] and the facts of a RegisterPage; catch-up and recovery, docs/catch-up.md)
 *   GET  /peer/tags?after=A&limit=L[&cfg=R]        -> {"tags":[[addr,seq,"writer"],..],"next":A'|null} (full comparison)
 *   GET  /peer/config                              -> {clusterId, nodeId, state}  (the member's configuration state)
 *   POST /peer/config   {"state": ConfigState}     -> the same, after adopting it if newer
 *   POST /peer/paxos    {"op":"prepare"|"accept","slot":E,"ballot":{..},"value":..}  -> the acceptor's reply
 *   POST /peer/rmw      {"messages":[{"op":"prepare","addr":A,"ballot":{round,node}}
 *                         | {"op":"accept","addr":A,"ballot":..,"tag":..,"value":"..","origin":ballot,"baseOrigin":ballot|null}
 *                         | {"op":"commit","addr":A,"tag":..,"value":"..","origin":ballot}],"cfg"?:R}
 *                       -> {"answers":[{"promise":true,"accepted":{..}|null,"register":{tag,value},"commits":[{tag,origin},..],"lost"?:true}
 *                           | {"accepted":true} | {"committed":true} | {"preempted":ballot} | {"unavailable":".."}]}
 *                       (compare-and-set and add, docs/rmw.md)
 *   GET  /peer/acceptors?after=A[&cfg=R]          -> {"items":[{"addr":A,"row":AcceptorRow},..],"next":A'|null} (a wiped member's recovery)
 *   POST /peer/acceptors {"items":[..],"cfg"?:R}  -> {"merged":N} (a member change's transfer: merged into the member's rows)
 *
 * Query and update requests carry "cfg": the rank of the configuration state they are sent
 * under (docs/membership.md); an answer under another state is an error: `stale_config` or
 * `retired` (with "state"), or `config_behind`.
 *
 * The stream is one long HTTP/1.1 POST whose request body carries requests and whose
 * response body carries the answers, matched by id and sent as soon as each is ready (an
 * update's after its commit), like etcd's long-lived peer streams. Each link keeps two,
 * a small lane and a bulk lane (docs/flow-control.md).
 */
export const PEER_PATHS = {
  rmw: '/peer/rmw', acceptors: '/peer/acceptors',
  stream: '/peer/stream', registers: '/peer/registers', changes: '/peer/changes', tags: '/peer/tags', config: '/peer/config', paxos: '/peer/paxos',
} as const;

/** Registers per page of /peer/registers (and at most limits.registerPageValueBytesMax of values). */
export const REGISTER_PAGE_ITEMS = 1000;

/**
 * The peer protocol this build speaks, in every peer request (HEADER_PROTOCOL) and ping answer.
 * 2: carstamps (tags with rmwc) and the rmw messages (issue 31). Members of different protocols
 * never count each other: a member of protocol 1 would store an rmw result without its rmwc and
 * order it wrongly (docs/rmw.md, "Versions").
 */
export const PEER_PROTOCOL = 2;
export const HEADER_PROTOCOL = 'x-shmem-protocol';

/** Headers identifying the sender and its member set. */
export const HEADER_CLUSTER = 'x-shmem-cluster';
/** The cluster id a node sends before it knows one (`start --join`), accepted by GET /peer/config only. */
export const JOINING_CLUSTER_ID = 'joining';
export const HEADER_MEMBERS = 'x-shmem-members';
export const HEADER_FROM = 'x-shmem-from';
/** The sender's node id: a node refuses requests from itself (listed as its own peer under another name). */
export const HEADER_NODE = 'x-shmem-node';
/** The member the sender means to address: a node refuses requests addressed to another name of it. */
export const HEADER_TO = 'x-shmem-to';

/** One request of the peer stream, decoded and checked. */
export type StreamRequest =
  | { readonly id: number; readonly op: 'query'; readonly addrs: readonly Addr[]; readonly values: boolean | readonly boolean[]; readonly budget: number; readonly oversize: boolean; readonly cfg?: number }
  | { readonly id: number; readonly op: 'update'; readonly items: readonly RegisterItem[]; readonly valueBytes: number; readonly cfg?: number }
  /** compare-and-set and add (docs/rmw.md) with small values, as POST /peer/rmw carries them; answers with values over limits.inlineValueCharsMax say `unavailable`. */
  | { readonly id: number; readonly op: 'rmw'; readonly messages: readonly RmwMessage[]; readonly cfg?: number }
  | { readonly id: number; readonly op: 'ping' };

/** A request before the stream gives it an id. */
export type StreamRequestBody =
  | { readonly op: 'query'; readonly addrs: readonly Addr[]; readonly values: boolean | readonly boolean[]; readonly budget?: number; readonly oversize?: boolean; readonly cfg?: number }
  | { readonly op: 'update'; readonly items: readonly RegisterItem[]; readonly cfg?: number }
  | { readonly op: 'rmw'; readonly messages: readonly RmwMessage[]; readonly cfg?: number }
  | { readonly op: 'ping' };

/** One answer of the peer stream, decoded; `id` is null only for an error that ends the stream. */
export interface StreamAnswer {
  readonly id: number | null;
  readonly items?: readonly ReplicaAnswer[];
  readonly acked?: number;
  readonly rmw?: readonly RmwAnswer[];
  readonly ping?: PingReply;
  /** `state`: with stale_config and retired, the configuration state the member holds. */
  readonly error?: { readonly code: string; readonly message: string; readonly state?: unknown };
}

export interface PingReply {
  readonly member: string;
  readonly nodeId: string;
  readonly version: string;
  readonly clusterId: string;
  /** True while the member recovers a wiped data dir (it does not answer as a replica). */
  readonly recovering: boolean;
  /** PEER_PROTOCOL of the member; absent: a member from before protocols were numbered (1). */
  readonly protocol?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a tag a shmem write could have issued (core/tag.ts tagProblem). */
export function isTag(v: unknown): v is Tag {
  return isObject(v) && typeof v['seq'] === 'number' && typeof v['writer'] === 'string'
    && v['writer'].length <= limits.writerIdCharsMax && tagProblem(v as unknown as Tag, limits.tagSeqMax) === null;
}

/** A tag with its value; `null` only with the initial tag (no write ever sends one). */
export function isVersioned(v: unknown): v is Versioned {
  return isObject(v) && versionedProblem(v['tag'], v['value'], Number.POSITIVE_INFINITY) === null;
}

export function isRegisterItem(v: unknown): v is RegisterItem {
  return isVersioned(v) && isAddr((v as unknown as Record<string, unknown>)['addr']);
}

/** Why (tag, value) is not a register a replica may store, or null. */
function versionedProblem(tag: unknown, value: unknown, valueBytesMax: number): string | null {
  if (!isObject(tag) || typeof tag['seq'] !== 'number' || typeof tag['writer'] !== 'string') return 'an item has no tag {seq, writer}';
  if (tag['writer'].length > limits.writerIdCharsMax) return `a writer id is longer than ${limits.writerIdCharsMax} characters`;
  const problem = tagProblem(tag as unknown as Tag, limits.tagSeqMax);
  if (problem !== null) return problem;
  if (value === null) return tagsEqual(tag as unknown as Tag, ZERO_TAG) ? null : `value null with tag ${formatTag(tag as unknown as Tag)}: no write stores null`;
  if (typeof value !== 'string') return 'a value is not a string';
  if (!value.isWellFormed()) return 'a value holds a lone surrogate (not storable as UTF-8)';
  // UTF-8 is at most 3 bytes per UTF-16 unit: count bytes only for values that could be over.
  if (value.length * 3 > valueBytesMax && Buffer.byteLength(value, 'utf8') > valueBytesMax) {
    return `a value of ${Buffer.byteLength(value, 'utf8')} bytes is over the limit of ${valueBytesMax}`;
  }
  return null;
}

/** A stream request after validation, or why it was refused (the refusal's metric label and message). */
export type ParsedStreamRequest =
  | { readonly ok: true; readonly request: StreamRequest }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

/** Kinds of refused peer input, the label of shmem_peer_input_refused_total. */
export type RefusalReason = 'malformed' | 'frame_too_large' | 'batch_too_large' | 'bad_tag' | 'null_value' | 'value_too_large' | 'ping_flood';

/**
 * Checks one decoded request frame of the peer stream, whoever sent it: shapes, batch sizes,
 * tags (tagProblem), null values, value sizes and encodings, raw byte counts. Nothing of a
 * refused frame is applied.
 */
export function parseStreamRequest(frame: Frame, valueBytesMax: number): ParsedStreamRequest {
  const refuse = (reason: RefusalReason, message: string): ParsedStreamRequest => ({ ok: false, reason, message });
  const v = frame.header;
  if (!isObject(v) || typeof v['id'] !== 'number' || !Number.isSafeInteger(v['id'])) return refuse('malformed', 'a request has no integer id');
  const id = v['id'];
  // The configuration state the request was sent under (membership/configuration.ts stateRank).
  const cfgValue = v['cfg'];
  if (cfgValue !== undefined && (typeof cfgValue !== 'number' || !Number.isSafeInteger(cfgValue) || cfgValue < 0)) {
    return refuse('malformed', 'a request\'s "cfg" must be a non-negative integer');
  }
  const cfg = cfgValue === undefined ? {} : { cfg: cfgValue };
  if (v['op'] === 'ping') {
    if (frame.raw.length > 0) return refuse('malformed', 'a ping carries no raw bytes');
    return { ok: true, request: { id, op: 'ping' } };
  }
  if (v['op'] === 'rmw') {
    if (frame.raw.length > 0) return refuse('malformed', 'an rmw request carries no raw bytes');
    const parsed = parseRmwRequest({ messages: v['messages'], ...cfg }, valueBytesMax);
    if (!parsed.ok) return parsed;
    return { ok: true, request: { id, op: 'rmw', messages: parsed.messages, ...cfg } };
  }
  if (v['op'] === 'query') {
    const addrs = v['addrs'];
    if (!Array.isArray(addrs) || !addrs.every(isAddr)) return refuse('malformed', 'a query\'s addrs must be an array of addresses');
    if (addrs.length > limits.batchItemsMax) return refuse('batch_too_large', `a query of ${addrs.length} addresses is over the limit of ${limits.batchItemsMax}`);
    if (frame.raw.length > 0) return refuse('malformed', 'a query carries no raw bytes');
    const values = v['values'];
    if (typeof values !== 'boolean' && !(Array.isArray(values) && values.length === addrs.length && values.every((x) => typeof x === 'boolean'))) {
      return refuse('malformed', 'a query says "values": true, false, or one of them per address');
    }
    const budget = v['budget'] ?? 0;
    if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget < 0) return refuse('malformed', 'a query\'s budget must be a non-negative integer');
    return {
      ok: true,
      request: { id, op: 'query', addrs, values: values as boolean | boolean[], budget: Math.min(budget, limits.bulkAnswerValueBytesMax), oversize: v['oversize'] === true, ...cfg },
    };
  }
  if (v['op'] === 'update') {
    const items = v['items'];
    if (!Array.isArray(items)) return refuse('malformed', 'an update\'s items must be an array');
    if (items.length > limits.batchItemsMax) return refuse('batch_too_large', `an update of ${items.length} items is over the limit of ${limits.batchItemsMax}`);
    const out: RegisterItem[] = [];
    let offset = 0;
    for (const item of items as unknown[]) {
      if (!isObject(item) || !isAddr(item['addr'])) return refuse('malformed', 'an update item has no valid addr');
      let value: unknown = item['value'];
      const bytes = item['bytes'];
      if (bytes !== undefined) {
        if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || offset + bytes > frame.raw.length) {
          return refuse('malformed', `address ${item['addr']}: "bytes" does not match the frame's raw bytes`);
        }
        if (bytes > valueBytesMax) return refuse('value_too_large', `address ${item['addr']}: a value of ${bytes} bytes is over the limit of ${valueBytesMax}`);
        value = decodeRawValue(frame.raw, offset, bytes);
        offset += bytes;
        if (value === undefined) return refuse('malformed', `address ${item['addr']}: a value is not valid UTF-8`);
      }
      const problem = versionedProblem(item['tag'], value, valueBytesMax);
      if (problem !== null) {
        const reason: RefusalReason = problem.startsWith('value null') ? 'null_value' : problem.includes('over the limit') ? 'value_too_large'
          : problem.startsWith('tag') || problem.startsWith('writer') || problem.includes('writer id') ? 'bad_tag' : 'malformed';
        return refuse(reason, `address ${item['addr']}: ${problem}`);
      }
      out.push({ addr: item['addr'], tag: item['tag'] as unknown as Tag, value: value as string | null });
    }
    if (offset !== frame.raw.length) return refuse('malformed', 'an update\'s raw bytes do not match its items');
    return { ok: true, request: { id, op: 'update', items: out, valueBytes: frame.raw.length, ...cfg } };
  }
  return refuse('malformed', `unknown op ${JSON.stringify(v['op'])?.slice(0, 20)}`);
}

/**
 * Splits the entries' values into inline ones and raw parts; a long value's UTF-8 is cached
 * on its entry (the same item goes to every member, so it is encoded once).
 */
function valuesOf<T extends { readonly value: string | null }>(entries: readonly T[], shape: (e: T) => Record<string, unknown>): { items: Record<string, unknown>[]; raw: Buffer[] } {
  const raw: Buffer[] = [];
  const items = entries.map((e) => {
    const head = shape(e);
    if (e.value !== null && e.value.length > limits.inlineValueCharsMax) {
      const bytes = utf8Of(e, e.value);
      raw.push(bytes);
      head['bytes'] = bytes.length;
    } else {
      head['value'] = e.value;
    }
    return head;
  });
  return { items, raw };
}

/** Encodes a request frame (the client side of the stream). */
export function encodeRequest(id: number, body: StreamRequestBody): EncodedFrame {
  if (body.op === 'update') {
    const { items, raw } = valuesOf(body.items, (i) => ({ addr: i.addr, tag: i.tag }));
    return encodeFrame(body.cfg === undefined ? { id, op: 'update', items } : { id, op: 'update', cfg: body.cfg, items }, raw);
  }
  if (body.op === 'rmw') return encodeFrame({ id, op: 'rmw', ...encodeRmwRequest(body.messages, body.cfg) });
  return encodeFrame({ id, ...body });
}

/** Encodes a query answer (the serving side): values inline or raw, deferred and unavailable as they are. */
export function encodeQueryAnswer(id: number, answers: readonly ReplicaAnswer[], values: boolean | readonly boolean[]): EncodedFrame {
  const raw: Buffer[] = [];
  const items = answers.map((a, i): Record<string, unknown> => {
    if ('unavailable' in a) return { unavailable: a.unavailable };
    if ('deferredBytes' in a) return { tag: a.tag, deferred: a.deferredBytes };
    if ('lost' in a) return { tag: a.tag, lost: a.lost };
    if (!wantsValue(values, i)) return { tag: a.tag };
    if (a.value !== null && a.value.length > limits.inlineValueCharsMax) {
      const bytes = Buffer.from(a.value, 'utf8');
      raw.push(bytes);
      return { tag: a.tag, bytes: bytes.length };
    }
    return { tag: a.tag, value: a.value };
  });
  return encodeFrame({ id, items }, raw);
}

/** Encodes any other answer (acks, pings, errors): no raw part. */
export function encodeAnswer(answer: StreamAnswer): EncodedFrame {
  return encodeFrame(answer as unknown as Record<string, unknown>);
}

/** What the client asked, so the answer can be checked against it: a query's size and which values it wanted. */
export interface AnswerExpectation {
  readonly items: number;
  readonly values: boolean | readonly boolean[];
  /** An rmw request: how many answers it must carry. */
  readonly rmw?: number;
}

/** Decodes an answer frame (the client side), or says why it is malformed. */
export function parseStreamAnswer(frame: Frame, expected: AnswerExpectation | undefined): StreamAnswer | string {
  const v = frame.header;
  if (!isObject(v) || !(v['id'] === null || (typeof v['id'] === 'number' && Number.isSafeInteger(v['id'])))) return 'an answer has no id';
  const { raw: _raw, ...answer } = v;
  if (v['rmw'] !== undefined) {
    if (frame.raw.length > 0 || expected?.rmw === undefined) return 'an rmw answer to a request that was not one';
    const answers = parseRmwAnswers({ answers: v['rmw'] }, expected.rmw);
    return typeof answers === 'string' ? answers : { id: v['id'] as number, rmw: answers };
  }
  if (v['items'] === undefined) {
    if (frame.raw.length > 0) return 'an answer without items carries raw bytes';
    return answer as unknown as StreamAnswer;
  }
  const items = v['items'];
  if (!Array.isArray(items) || expected === undefined || items.length !== expected.items) return 'a query answer has the wrong number of items';
  const out: ReplicaAnswer[] = [];
  let offset = 0;
  for (const [i, item] of (items as unknown[]).entries()) {
    if (!isObject(item)) return 'a query answer item is not an object';
    if (typeof item['unavailable'] === 'string') {
      out.push({ unavailable: item['unavailable'].slice(0, 40) });
      continue;
    }
    if (!isTag(item['tag'])) return 'a query answer item has no valid tag';
    const tag = item['tag'];
    if (item['lost'] !== undefined) {
      // The member holds this tag, its value damaged (docs/storage-integrity.md): a tag and no value.
      if (typeof item['lost'] !== 'string' || item['value'] !== undefined || item['bytes'] !== undefined) return 'a lost value carries a value';
      out.push({ tag, lost: item['lost'].slice(0, 40) });
      continue;
    }
    if (item['deferred'] !== undefined) {
      const n = item['deferred'];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return 'a deferred size is not a non-negative integer';
      out.push({ tag, deferredBytes: n });
      continue;
    }
    let value: unknown = item['value'];
    if (item['bytes'] !== undefined) {
      const n = item['bytes'];
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || offset + n > frame.raw.length) return 'a value\'s "bytes" does not match the raw bytes';
      value = decodeRawValue(frame.raw, offset, n);
      offset += n;
      if (value === undefined) return 'a value is not valid UTF-8';
    }
    if (item['value'] === undefined && item['bytes'] === undefined) {
      if (wantsValue(expected.values, i)) return 'a query answer item lacks the value it was asked for';
      out.push({ tag, value: null }); // tags only: the value means nothing
      continue;
    }
    if (versionedProblem(tag, value, Number.POSITIVE_INFINITY) !== null) return 'a query answer item is not a valid register';
    out.push({ tag, value: value as string | null });
  }
  if (offset !== frame.raw.length) return 'an answer\'s raw bytes do not match its items';
  return { ...(answer as unknown as StreamAnswer), items: out };
}

export function isPingReply(v: unknown): v is PingReply {
  return isObject(v) && typeof v['member'] === 'string' && typeof v['nodeId'] === 'string' && typeof v['version'] === 'string'
    && typeof v['clusterId'] === 'string' && typeof v['recovering'] === 'boolean'
    && (v['protocol'] === undefined || Number.isSafeInteger(v['protocol']));
}

/** Why a member whose ping answered `reply` must not be counted (another peer protocol), or undefined. */
export function protocolProblem(member: string, protocol: unknown): string | undefined {
  if (protocol === PEER_PROTOCOL) return undefined;
  const theirs = protocol === undefined ? '1 (a shmem from before compare-and-set)' : String(protocol).slice(0, 20);
  return `${member} speaks peer protocol ${theirs}, this member ${PEER_PROTOCOL}: members of different versions never count each other, ` +
    'since a mixed cluster could order compare-and-set results wrongly; stop every member, upgrade them all, then start them (docs/rmw.md, "Versions")';
}

export function isRegisterPage(v: unknown): v is RegisterPage {
  return isObject(v) && typeof v['initialized'] === 'boolean' && Array.isArray(v['items']) && v['items'].every(isRegisterItem)
    && (v['next'] === null || isAddr(v['next']))
    && (v['busy'] === undefined || typeof v['busy'] === 'boolean')
    && (v['served'] === undefined || typeof v['served'] === 'boolean')
    && (v['opDeadlineMs'] === undefined || (Number.isSafeInteger(v['opDeadlineMs']) && (v['opDeadlineMs'] as number) > 0 && (v['opDeadlineMs'] as number) <= limits.opDeadlineMsMax))
    && (v['acceptor'] === undefined || typeof toAcceptorState(v['acceptor']) !== 'string');
}

/** Tags-only items as they travel: [addr, seq, writer] (a third of the bytes of objects), and rmwc fourth when not 0. */
export function encodeTags(items: readonly RegisterItem[]): ([number, number, string] | [number, number, string, number])[] {
  return items.map((i) => (i.tag.rmwc ?? 0) === 0 ? [i.addr, i.tag.seq, i.tag.writer] : [i.addr, i.tag.seq, i.tag.writer, i.tag.rmwc!]);
}

/** Tags-only items from the wire, or undefined when any is not [addr, seq, writer(, rmwc)] with a valid tag. */
export function decodeTags(v: unknown): RegisterItem[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: RegisterItem[] = [];
  for (const t of v) {
    if (!Array.isArray(t) || (t.length !== 3 && t.length !== 4) || !isAddr(t[0])) return undefined;
    const tag = t.length === 3 ? { seq: t[1] as unknown, writer: t[2] as unknown } : { seq: t[1] as unknown, writer: t[2] as unknown, rmwc: t[3] as unknown };
    if (!isTag(tag)) return undefined;
    out.push({ addr: t[0], tag, value: null });
  }
  return out;
}

/** The JSON GET /peer/changes answers. */
export function encodeChangeFeedPage(page: ChangeFeedPage, values: boolean): Record<string, unknown> {
  const { items, ...rest } = page;
  return values ? { ...rest, items } : { ...rest, tags: encodeTags(items) };
}

/** A change feed page from the wire, or why it is not one. */
export function decodeChangeFeedPage(v: unknown): ChangeFeedPage | string {
  if (!isObject(v) || typeof v['initialized'] !== 'boolean') return 'no "initialized"';
  const items = v['tags'] !== undefined ? decodeTags(v['tags']) : Array.isArray(v['items']) && v['items'].every(isRegisterItem) ? v['items'] as RegisterItem[] : undefined;
  if (items === undefined) return 'its items are not valid registers';
  const page = { ...v, items } as Record<string, unknown>;
  delete page['tags'];
  // The page's facts as a RegisterPage's (tags-only items are checked above, not as registers).
  if (!isRegisterPage({ ...page, items: [] })) return 'its next position, busy, opDeadlineMs or acceptor state is not valid';
  // A recovering member: absent `served` means it may know the cluster served (the safe side, docs/recovery.md).
  if (!v['initialized']) return { initialized: false, served: v['served'] !== false, items: [], next: null };
  if (typeof v['log'] !== 'string' || v['log'].length === 0 || v['log'].length > 64) return 'its log id is not a string of 1 to 64 characters';
  if (!isAddr(v['head'])) return 'its head is not a non-negative integer';
  if (v['next'] !== null && (v['next'] as number) > v['head']) return 'its next position is past its head';
  const age = v['oldestAgeMs'];
  if (age !== undefined && age !== null && !(Number.isSafeInteger(age) && (age as number) >= 0)) return 'its oldestAgeMs is not a non-negative integer';
  return page as unknown as ChangeFeedPage;
}

/** A tag page from the wire, or why it is not one. */
export function decodeTagPage(v: unknown): TagPage | string {
  if (!isObject(v)) return 'not an object';
  const items = decodeTags(v['tags']);
  if (items === undefined) return 'its tags are not [addr, seq, writer(, rmwc)] with valid tags';
  if (v['next'] !== null && !isAddr(v['next'])) return 'its next address is not an address';
  return { items, next: v['next'] as number | null };
}

/** A ballot as it travels: a positive round and a writer id (the proposer's node id and incarnation). */
export function isBallot(v: unknown): v is Ballot {
  return isObject(v) && typeof v['round'] === 'number' && Number.isSafeInteger(v['round']) && v['round'] >= 1 && v['round'] <= limits.tagSeqMax
    && typeof v['node'] === 'string' && v['node'].length <= limits.writerIdCharsMax && WRITER_ID_PATTERN.test(v['node']);
}

function isAcceptance(v: unknown): v is Acceptance {
  return isObject(v) && isBallot(v['ballot']) && isBallot(v['origin']) && (v['baseOrigin'] === null || isBallot(v['baseOrigin']))
    && typeof v['value'] === 'string' && isVersioned({ tag: v['tag'], value: v['value'] });
}

function isCommits(v: unknown): boolean {
  return Array.isArray(v) && v.length <= limits.rmwCommitHistory && v.every((c) => isObject(c) && isBallot(c['origin']) && isTag(c['tag']));
}

/** A POST /peer/rmw body after validation, or why it was refused (nothing of it applied). */
export function parseRmwRequest(body: unknown, valueBytesMax: number):
  { ok: true; messages: RmwMessage[]; rank: number | undefined } | { ok: false; reason: RefusalReason; message: string } {
  const refuse = (reason: RefusalReason, message: string) => ({ ok: false as const, reason, message });
  if (!isObject(body) || !Array.isArray(body['messages'])) return refuse('malformed', 'an rmw request is {"messages": [...]}');
  const cfg = body['cfg'];
  if (cfg !== undefined && (typeof cfg !== 'number' || !Number.isSafeInteger(cfg) || cfg < 0)) return refuse('malformed', 'an rmw request\'s "cfg" must be a non-negative integer');
  const list = body['messages'] as unknown[];
  if (list.length === 0 || list.length > limits.rmwBatchMax) return refuse('batch_too_large', `an rmw request holds 1 to ${limits.rmwBatchMax} messages, not ${list.length}`);
  const messages: RmwMessage[] = [];
  for (const m of list) {
    if (!isObject(m) || !isAddr(m['addr'])) return refuse('malformed', 'an rmw message has no valid addr');
    const addr = m['addr'];
    if (m['op'] !== 'prepare' && m['op'] !== 'accept' && m['op'] !== 'commit') return refuse('malformed', `address ${addr}: an rmw message's op is "prepare", "accept" or "commit"`);
    if (m['op'] !== 'commit' && !isBallot(m['ballot'])) return refuse('malformed', `address ${addr}: an rmw message's ballot is not {round, node}`);
    if (m['op'] === 'prepare') {
      messages.push({ op: 'prepare', addr, ballot: m['ballot'] as Ballot });
      continue;
    }
    const problem = versionedProblem(m['tag'], m['value'], valueBytesMax);
    if (problem !== null) {
      const reason: RefusalReason = problem.startsWith('value null') ? 'null_value' : problem.includes('over the limit') ? 'value_too_large' : 'bad_tag';
      return refuse(reason, `address ${addr}: ${problem}`);
    }
    if (m['value'] === null) return refuse('null_value', `address ${addr}: an ${m['op']} carries a value`);
    if (!isBallot(m['origin'])) return refuse('malformed', `address ${addr}: an ${m['op']}'s origin is not {round, node}`);
    const item = { addr, tag: m['tag'] as unknown as Tag, value: m['value'] as string };
    if (m['op'] === 'commit') {
      messages.push({ op: 'commit', addr, item, origin: m['origin'] });
      continue;
    }
    const baseOrigin = m['baseOrigin'] ?? null;
    if (baseOrigin !== null && !isBallot(baseOrigin)) return refuse('malformed', `address ${addr}: an accept's baseOrigin is not {round, node} or null`);
    messages.push({ op: 'accept', addr, ballot: m['ballot'] as Ballot, item, origin: m['origin'], baseOrigin });
  }
  return { ok: true, messages, rank: cfg as number | undefined };
}

/** The JSON of a POST /peer/rmw request. */
export function encodeRmwRequest(messages: readonly RmwMessage[], rank: number | undefined): Record<string, unknown> {
  return {
    messages: messages.map((m) => m.op === 'prepare' ? m
      : { op: m.op, addr: m.addr, ...(m.op === 'accept' ? { ballot: m.ballot, baseOrigin: m.baseOrigin } : {}), tag: m.item.tag, value: m.item.value, origin: m.origin }),
    ...(rank === undefined ? {} : { cfg: rank }),
  };
}

/** A POST /peer/rmw answer for `n` messages, or why it is not one. */
export function parseRmwAnswers(v: unknown, n: number): RmwAnswer[] | string {
  if (!isObject(v) || !Array.isArray(v['answers']) || v['answers'].length !== n) return `not {"answers": [${n} answers]}`;
  for (const a of v['answers'] as unknown[]) {
    if (!isObject(a)) return 'an answer is not an object';
    if (a['promise'] === true) {
      const lost = a['lost'];
      if (lost !== undefined && lost !== true) return 'a promise\'s "lost" is true or absent';
      const register = a['register'];
      const registerOk = lost === true ? isObject(register) && isTag(register['tag']) && register['value'] === null : isVersioned(register);
      if (!(a['accepted'] === null || isAcceptance(a['accepted'])) || !registerOk || !isCommits(a['commits'])) return 'a promise\'s acceptance, register or commit is not valid';
    } else if (a['accepted'] !== true && a['committed'] !== true && !isBallot(a['preempted']) && typeof a['unavailable'] !== 'string') {
      return 'an answer is none of promise, accepted, committed, preempted, unavailable';
    }
  }
  return v['answers'] as RmwAnswer[];
}

/** An rmw answer on the peer stream that would carry a value too large for it: ask again over POST /peer/rmw. */
export const STREAM_TOO_LARGE = 'value too large for the stream';

/** Acceptor rows per page of GET /peer/acceptors. */
export const ACCEPTOR_PAGE_ITEMS = 256;

/** Acceptor rows to merge (POST /peer/acceptors), checked as a page's; the configuration state they are sent under. */
export function decodeAcceptorMerge(v: unknown): { items: AcceptorPage['items']; rank: number | undefined } | string {
  if (!isObject(v)) return 'not {"items": [...]}';
  const cfg = v['cfg'];
  if (cfg !== undefined && (typeof cfg !== 'number' || !Number.isSafeInteger(cfg) || cfg < 0)) return '"cfg" must be a non-negative integer';
  const page = decodeAcceptorPage({ items: v['items'], next: null });
  return typeof page === 'string' ? page : { items: page.items, rank: cfg as number | undefined };
}

/** A page of acceptor rows from the wire (each checked as the store checks its own), or why it is not one. */
export function decodeAcceptorPage(v: unknown): AcceptorPage | string {
  if (!isObject(v) || !Array.isArray(v['items']) || v['items'].length > ACCEPTOR_PAGE_ITEMS) return `not {"items": [at most ${ACCEPTOR_PAGE_ITEMS}], "next"}`;
  if (v['next'] !== null && !isAddr(v['next'])) return 'its next address is not an address';
  const items: { addr: Addr; row: AcceptorRow }[] = [];
  for (const i of v['items'] as unknown[]) {
    if (!isObject(i) || !isAddr(i['addr'])) return 'an item has no valid addr';
    const row = parseAcceptorRow(JSON.stringify(i['row'] ?? null));
    if (row === undefined) return `the acceptor row of address ${i['addr']} is not valid`;
    items.push({ addr: i['addr'], row });
  }
  return { items, next: v['next'] as Addr | null };
}
