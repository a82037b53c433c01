import { BadInputError } from '../errors.js';
import { parseAddrText } from '../core/addr.js';
import { PEER_PATHS, REGISTER_PAGE_ITEMS, isQueryRequest, isUpdateRequest } from '../transport/wire.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { readJsonBody } from './request.js';
import type { Route } from './router.js';

/** The internal replica API, refused to senders with another member set. */
export function peerRoutes(node: NodeApi): Route[] {
  const exact = (path: string): RegExp => new RegExp(`^${path}$`);
  return [
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.query),
      handler: async (req, res) => {
        node.checkPeer(req.headers);
        const body = await readJsonBody(req, node.peerBodyBytesMax);
        if (!isQueryRequest(body)) throw new BadInputError('bad_request', 'malformed peer query');
        sendJson(res, 200, { items: node.query(body.addrs) });
      },
    },
    {
      method: 'POST',
      pattern: exact(PEER_PATHS.update),
      handler: async (req, res) => {
        node.checkPeer(req.headers);
        const body = await readJsonBody(req, node.peerBodyBytesMax);
        if (!isUpdateRequest(body)) throw new BadInputError('bad_request', 'malformed peer update');
        // Acknowledged only once durable; stale items are acknowledged too (not stored).
        await node.update(body.items);
        sendJson(res, 200, { acked: body.items.length });
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.registers),
      handler: (req, res) => {
        node.checkPeer(req.headers);
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const afterText = params.get('after');
        const after = afterText === null ? null : parseAddrText(afterText);
        if (after !== null && !after.ok) throw new BadInputError('invalid_addr', after.message);
        const limit = Number(params.get('limit') ?? REGISTER_PAGE_ITEMS);
        if (!Number.isInteger(limit) || limit < 1 || limit > REGISTER_PAGE_ITEMS) {
          throw new BadInputError('bad_request', `limit must be an integer from 1 to ${REGISTER_PAGE_ITEMS}`);
        }
        sendJson(res, 200, node.registers(after === null ? null : after.addr, limit));
      },
    },
    {
      method: 'GET',
      pattern: exact(PEER_PATHS.ping),
      handler: (req, res) => {
        node.checkPeer(req.headers);
        sendJson(res, 200, node.ping());
      },
    },
  ];
}
