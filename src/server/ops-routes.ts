import { parseAddrText } from '../core/addr.js';
import { BadInputError } from '../errors.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import type { Route } from './router.js';

/** Most entries per page of GET /tags. */
export const TAG_PAGE_ITEMS_MAX = 1000;

/** Operator endpoints: /status (JSON), /readyz (checklist), /livez, /metrics (Prometheus), /tags. */
export function opsRoutes(node: NodeApi): Route[] {
  return [
    { method: 'GET', pattern: /^\/status\/?$/, handler: (_req, res) => sendJson(res, 200, node.status()) },
    {
      method: 'GET',
      pattern: /^\/readyz\/?$/,
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
      handler: async (_req, res) => {
        const m = await node.metrics();
        res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.text) });
        res.end(m.text);
      },
    },
    {
      method: 'GET',
      pattern: /^\/livez\/?$/,
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('ok\n');
      },
    },
  ];
}
