import type { BodyBudget } from './body-budget.js';
import { sendJson } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { readJsonBody } from './request.js';
import type { Route } from './router.js';

/** A member change request: two addresses and an id at most. */
const CHANGE_BODY_BYTES_MAX = 4096;

/**
 * The operators' member API (docs/membership.md): GET /members lists the member set (read
 * role, like /status); POST /members changes it (admin): {"action":"add","address":"h:p"},
 * {"action":"remove","member":"id or h:p"}, {"action":"replace","member":"..","address":"h:p"}.
 * The change is complete when the answer comes (or fails with change_refused / change_failed).
 */
export function memberRoutes(node: NodeApi, bodies: BodyBudget): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/members\/?$/,
      access: { scope: 'client', role: 'read' },
      handler: async (_req, res) => sendJson(res, 200, await node.membership.list()),
    },
    {
      method: 'POST',
      pattern: /^\/members\/?$/,
      access: { scope: 'client', role: 'admin' },
      handler: async (req, res) => sendJson(res, 200, await node.membership.change(await readJsonBody(req, res, CHANGE_BODY_BYTES_MAX, bodies))),
    },
  ];
}
