import { createServer, type Server } from 'node:http';
import { limits } from '../core/limits.js';
import type { Logger } from '../log/logger.js';
import { sendError } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { opsRoutes } from './ops-routes.js';
import { peerRoutes } from './peer-routes.js';
import { publicRoutes } from './public-routes.js';
import { resolveRoute, type Route } from './router.js';

/** Timeouts of the HTTP edge: slow or stuck clients cannot hold a node's sockets forever. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = limits.httpRequestMs;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/**
 * The node's HTTP server (node:http): one route table, every error mapped in one place.
 * Unexpected errors answer 500 and are logged; they never take the node down.
 */
export function createHttpServer(node: NodeApi, logger: Logger): Server {
  const routes: Route[] = [...publicRoutes(node), ...peerRoutes(node, logger), ...opsRoutes(node)];
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAlive: true });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('request', (req, res) => {
    void (async () => {
      try {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const { handler, params } = resolveRoute(routes, req.method ?? 'GET', path);
        await handler(req, res, params);
      } catch (err) {
        if (sendError(res, err)) logger.error('request failed', { method: req.method, url: req.url, err: String((err as Error)?.stack ?? err) });
      }
    })();
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    logger.debug('client error', { err: String(err) });
  });
  return server;
}
