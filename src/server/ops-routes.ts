import { parseAddrText } from '../core/addr.js';
import { BadInputError } from '../errors.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import type { Route } from './router.js';
import type { BodyBudget } from './body-budget.js';
import { readJsonBody } from './request.js';

/** Most entries per page of GET /tags. */
export const TAG_PAGE_ITEMS_MAX = 1000;

/**
 * Operator endpoints: /status (JSON), /readyz (checklist), /livez, /metrics (Prometheus), /tags,
 * and POST /repair and /recovery/accept-data-loss (admin).
 * /livez and /readyz are open (they say nothing about data). /status, /tags and /metrics
 * need the read role: they show no values, and a monitoring system should not hold a token
 * that can write; /status shows this node's local details (data dir, pid, transport) to
 * admins only.
 */
export function opsRoutes(node: NodeApi, bodies: BodyBudget): Route[] {
  return [
    {
      // A full comparison of this node against every other member now (docs/catch-up.md), admin
      // only: it reads every tag of every member. Answers when done, with what it fixed.
      method: 'POST',
      pattern: /^\/repair\/?$/,
      access: { scope: 'client', role: 'admin' },
      handler: async (req, res) => {
        const body = await readJsonBody(req, res, 1024, bodies);
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0) {
          throw new BadInputError('bad_request', 'POST /repair takes an empty JSON object: {}');
        }
        sendJson(res, 200, await node.repair());
      },
    },
    {
      // An operator accepts the loss of the recovering members' data (docs/recovery.md), admin
      // only. The node refuses unless it is recovering beyond the fault budget; 200 either way,
      // with whether it was accepted and why not.
      method: 'POST',
      pattern: /^\/recovery\/accept-data-loss\/?$/,
      access: { scope: 'client', role: 'admin' },
      handler: async (req, res, _params, caller) => {
        const body = await readJsonBody(req, res, 1024, bodies);
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0) {
          throw new BadInputError('bad_request', 'POST /recovery/accept-data-loss takes an empty JSON object: {}');
        }
        const who = caller.kind === 'anonymous' ? 'anonymous' : `${caller.kind} ${caller.name}`;
        sendJson(res, 200, node.acceptDataLoss(`${who} from ${req.socket.remoteAddress ?? 'an unknown address'}`));
      },
    },
    {
      method: 'GET',
      pattern: /^\/status\/?$/,
      access: { scope: 'client', role: 'read' },
      handler: async (_req, res, _params, caller) => sendJson(res, 200, await node.status(caller.role === 'admin')),
    },
    {
      method: 'GET',
      pattern: /^\/readyz\/?$/,
      access: { scope: 'open' },
      handler: async (_req, res) => {
        const r = await node.readiness();
        const text = `${r.checks.join('\n')}\n`;
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    },
    {
      method: 'GET',
      pattern: /^\/tags\/?$/,
      access: { scope: 'client', role: 'read' },
      // ?after=A (addresses > A, or from the start) pages forward; ?before=B (the last ones < B)
      // and ?last (the last ones of all) page backward: the dashboard scrolls both ways.
      handler: (req, res) => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const address = (name: string): number | null => {
          const text = params.get(name);
          if (text === null || text === '') return null;
          const parsed = parseAddrText(text);
          if (!parsed.ok) throw new BadInputError('invalid_addr', `${name}: ${parsed.message}`);
          return parsed.addr;
        };
        const after = address('after');
        const before = address('before');
        const last = params.has('last');
        if ([after !== null, before !== null, last].filter(Boolean).length > 1) throw new BadInputError('bad_request', 'give at most one of after, before and last');
        const limitText = params.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!/^\d+$/.test(limitText) || limit < 1 || limit > TAG_PAGE_ITEMS_MAX) {
          throw new BadInputError('bad_request', `limit must be an integer from 1 to ${TAG_PAGE_ITEMS_MAX}, got "${limitText.slice(0, 20)}"`);
        }
        const backward = before !== null || last;
        const items = node.tags(backward ? { before } : { after }, limit);
        sendJson(res, 200, backward ? { items, prev: items.length === limit ? items[0]!.addr : null } : { items, next: items.length === limit ? items.at(-1)!.addr : null });
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
