import { parseAddrText } from '../core/addr.js';
import { BadInputError } from '../errors.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import type { Route } from './router.js';

/** Most entries per page of GET /tags. */
export const TAG_PAGE_ITEMS_MAX = 1000;

/**
 * Operator endpoints: /status (JSON), /readyz (checklist), /livez, /metrics (Prometheus), /tags.
 * /livez and /readyz are open (they say nothing about data). /status, /tags and /metrics
 * need the read role: they show no values, and a monitoring system should not hold a token
 * that can write; /status shows this node's local details (data dir, pid, transport) to
 * admins only.
 */
export function opsRoutes(node: NodeApi): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/status\/?$/,
      access: { scope: 'client', role: 'read' },
      handler: (_req, res, _params, caller) => sendJson(res, 200, node.status(caller.role === 'admin')),
    },
    {
      method: 'GET',
      pattern: /^\/readyz\/?$/,
      access: { scope: 'open' },
      handler: (_req, res) => {
        const r = node.readiness();
        const text = `${r.checks.join('\n')}\n`;
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    },
    {
      method: 'GET',
      pattern: /^\/tags\/?$/,
      access: { scope: 'client', role: 'read' },
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const afterText = params.get('after');
        const after = afterText === null || afterText === '' ? null : parseAddrText(afterText);
        if (after !== null && !after.ok) throw new BadInputError('invalid_addr', `after: ${after.message}`);
        const limitText = params.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!/^\d+$/.test(limitText) || limit < 1 || limit > TAG_PAGE_ITEMS_MAX) {
          throw new BadInputError('bad_request', `limit must be an integer from 1 to ${TAG_PAGE_ITEMS_MAX}, got "${limitText}"`);
        }
        const items = node.tags(after === null ? null : after.addr, limit);
        sendJson(res, 200, { items, next: items.length === limit ? items.at(-1)!.addr : null });
      },
    },
    {
      method: 'GET',
      pattern: /^\/metrics\/?$/,
      access: { scope: 'client', role: 'read' },
      handler: async (_req, res) => {
        const m = await node.metrics();
        res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.text) });
        res.end(m.text);
      },
    },
    {
      method: 'GET',
      pattern: /^\/livez\/?$/,
      access: { scope: 'open' },
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('ok\n');
      },
    },
  ];
}
