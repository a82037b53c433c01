import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import type { Route } from './router.js';

/** Operator endpoints: /status (JSON), /readyz (checklist), /livez. */
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
      pattern: /^\/livez\/?$/,
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('ok\n');
      },
    },
  ];
}
