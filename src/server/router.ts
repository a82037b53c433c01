import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, NotFoundError } from '../errors.js';

/** A route handler; it answers through `res` or throws a ShmemError. */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void> | void;

export interface Route {
  readonly method: 'GET' | 'POST';
  /** Matched against the path; capture groups become `params`. */
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/** Finds the route for a request; throws NotFoundError or MethodNotAllowedError. */
export function resolveRoute(routes: readonly Route[], method: string, path: string): { handler: Handler; params: string[] } {
  const allowed: string[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
      return { handler: route.handler, params: m.slice(1) };
    }
    allowed.push(route.method);
  }
  if (allowed.length > 0) {
    throw new MethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed.join(' or ')}`, allowed);
  }
  throw new NotFoundError(`no route for ${method} ${path}`);
}
