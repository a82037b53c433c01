import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, NotFoundError } from '../errors.js';
import type { Access, Caller } from '../security/roles.js';

/** A route handler; it answers through `res` or throws a ShmemError. `caller` passed the route's access check. */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: readonly string[], caller: Caller) => Promise<void> | void;

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Matched against the path; capture groups become `params`. */
  readonly pattern: RegExp;
  /** Who may call it; checked by the server before the handler runs (security/access-control.ts). */
  readonly access: Access;
  readonly handler: Handler;
}

/** Finds the route for a request; throws NotFoundError or MethodNotAllowedError. */
export function resolveRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: string[] } {
  const allowed: string[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
      return { route, params: m.slice(1) };
    }
    allowed.push(route.method);
  }
  if (allowed.length > 0) {
    throw new MethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed.join(' or ')}`, allowed);
  }
  throw new NotFoundError(`no route for ${method} ${path}`);
}
