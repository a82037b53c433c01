import { BadInputError, OverloadedError } from '../errors.js';
import { parseAddrText } from '../core/addr.js';
import { limits } from '../core/limits.js';
import type { Logger } from '../log/logger.js';
import { FRAMES } from '../transport/frames.js';
import { decodeAcceptorMerge, encodeChangeFeedPage, encodeTags, HEADER_FROM, parseRmwRequest, PEER_PATHS, REGISTER_PAGE_ITEMS } from '../transport/wire.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { servePeerStream } from './peer-stream.js';
import type { Route } from './router.js';
import type { BodyBudget } from './body-budget.js';
import { readJsonBody } from './request.js';

/** A batch of acceptor rows to merge: 256 rows of at most 16 commits and one accepted value each (a value's 6x JSON escape). */
const ACCEPTOR_MERGE_BYTES_MAX = 256 * 8 * 1024 + 64 * 1024 * 1024 * 6;

/** A configuration state or Paxos message: far below this (15 members). */
const CONFIG_BODY_BYTES_MAX = 64 * 1024;

/** The internal replica API: members only (the server checks credentials, then the member set). */
export function peerRoutes(node: NodeApi, logger: Logger, bodies: BodyBudget): Route[] {
  const exact = (path: string): RegExp => new RegExp(`^${path}$`);
  let streamsServed = 0;
  return [
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.stream),
      access: { scope: 'peer' },
      handler: (req, res) => {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== FRAMES) {
          req.resume();
          throw new BadInputError('bad_content_type', `the peer stream's content type must be ${FRAMES}, got "${type.slice(0, 60) || 'none'}"`);
        }
        // Two lanes per member, renewals overlapping: far fewer than this. More is a flood.
        if (streamsServed >= limits.peerStreamsServedMax) {
          req.resume();
          throw new OverloadedError(`this node already serves ${streamsServed} peer streams, the limit is ${limits.peerStreamsServedMax}`);
        }
        streamsServed += 1;
        res.once('close', () => (streamsServed -= 1));
        // Updates are acknowledged only once durable; stale items are acknowledged too (not stored).
        servePeerStream(req, res, node, (err) => logger.error('peer stream request failed', { err: String((err as Error)?.stack ?? err) }),
          (reason, message) => node.peerInputRefused(reason, message, String(req.headers[HEADER_FROM] ?? req.socket.remoteAddress ?? '?')));
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.registers),
      access: { scope: 'peer' },
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const limit = integerParam(params, 'limit', 1, REGISTER_PAGE_ITEMS, REGISTER_PAGE_ITEMS);
        sendJson(res, 200, node.registers(afterParam(params), limit, rankParam(params)));
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.acceptors),
      access: { scope: 'peer' },
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        sendJson(res, 200, node.acceptorPage(afterParam(params), rankParam(params)));
      },
    },
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.acceptors),
      access: { scope: 'peer' },
      handler: async (req, res) => {
        const decoded = decodeAcceptorMerge(await readJsonBody(req, res, ACCEPTOR_MERGE_BYTES_MAX, bodies));
        if (typeof decoded === 'string') {
          node.peerInputRefused('malformed', decoded, String(req.headers[HEADER_FROM] ?? '').slice(0, 200));
          throw new BadInputError('bad_request', `refused acceptor rows: ${decoded}`);
        }
        await node.mergeAcceptors(decoded.items, decoded.rank);
        sendJson(res, 200, { merged: decoded.items.length });
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.changes),
      access: { scope: 'peer' },
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const since = integerParam(params, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
        const limit = integerParam(params, 'limit', 1, limits.changePageItemsMax, limits.changePageItemsMax);
        const values = params.get('values') ?? '0';
        if (values !== '0' && values !== '1') throw new BadInputError('bad_request', `values must be 0 or 1, got "${values.slice(0, 20)}"`);
        const log = params.get('log');
        if (log !== null && !/^[0-9a-z.]{1,64}$/.test(log)) throw new BadInputError('bad_request', 'log must be 1 to 64 characters of 0-9, a-z and "."');
        const from = String(req.headers[HEADER_FROM] ?? '');
        sendJson(res, 200, encodeChangeFeedPage(node.changes(since, limit, values === '1', rankParam(params), from, log ?? undefined), values === '1'));
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.tags),
      access: { scope: 'peer' },
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const limit = integerParam(params, 'limit', 1, limits.changePageItemsMax, limits.changePageItemsMax);
        const page = node.tagPage(afterParam(params), limit, rankParam(params));
        sendJson(res, 200, { tags: encodeTags(page.items), next: page.next });
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.config),
      access: { scope: 'peer', joining: true },
      handler: (_req, res) => sendJson(res, 200, node.membership.config()),
    },
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.config),
      access: { scope: 'peer' },
      handler: async (req, res) => sendJson(res, 200, node.membership.pushConfig(await readJsonBody(req, res, CONFIG_BODY_BYTES_MAX, bodies))),
    },
    {
      // Compare-and-set and add (docs/rmw.md): checked like the stream's updates, nothing of a refused batch applied.
      method: 'POST',
      pattern: exact(PEER_PATHS.rmw),
      access: { scope: 'peer' },
      handler: async (req, res) => {
        const bytesMax = Math.max(node.valueBytesMax, limits.batchValueBytesMax) * 6 + limits.rmwBatchMax * 1024;
        const parsed = parseRmwRequest(await readJsonBody(req, res, bytesMax, bodies), node.valueBytesMax);
        if (!parsed.ok) {
          node.peerInputRefused(parsed.reason, parsed.message, String(req.headers[HEADER_FROM] ?? '').slice(0, 200));
          throw new BadInputError('bad_request', `refused peer request: ${parsed.message}`);
        }
        sendJson(res, 200, { answers: await node.acceptRmw(parsed.messages, parsed.rank) });
      },
    },
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.paxos),
      access: { scope: 'peer' },
      handler: async (req, res) => sendJson(res, 200, node.membership.paxos(await readJsonBody(req, res, CONFIG_BODY_BYTES_MAX, bodies))),
    },
  ];
}

/** An integer query parameter within [min, max] (plain digits only: Number() would also take 1e3, 0x10, " 5" and 1.0). */
function integerParam(params: URLSearchParams, name: string, min: number, max: number, absent: number): number {
  const text = params.get(name);
  if (text === null) return absent;
  const n = Number(text);
  if (!/^\d{1,16}$/.test(text) || n < min || n > max) throw new BadInputError('bad_request', `${name} must be an integer from ${min} to ${max}, got "${text.slice(0, 20)}"`);
  return n;
}

/** The address a page starts after (`after`), or null: from the first. */
function afterParam(params: URLSearchParams): number | null {
  const text = params.get('after');
  if (text === null) return null;
  const after = parseAddrText(text);
  if (!after.ok) throw new BadInputError('invalid_addr', after.message);
  return after.addr;
}

/** The configuration state a peer request names (`cfg`), if any. */
function rankParam(params: URLSearchParams): number | undefined {
  const text = params.get('cfg');
  if (text === null) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new BadInputError('bad_request', `cfg must be a non-negative integer, got "${text.slice(0, 20)}"`);
  return Number(text);
}
