import { HEADER_CLUSTER, JOINING_CLUSTER_ID } from '../transport/wire.js';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { limits } from '../core/limits.js';
import type { Logger } from '../log/logger.js';
import type { AccessControl } from '../security/access-control.js';
import type { TlsMaterial } from '../security/tls.js';
import { Server as NetServer, type Socket } from 'node:net';
import { LogLimiter } from '../log/rate-limited.js';
import { BodyBudget } from './body-budget.js';
import { ConnectionGuard, type ConnectionRefusal, type ConnectionStats } from './connection-guard.js';
import { errorBody, sendError } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { opsRoutes } from './ops-routes.js';
import { memberRoutes } from './member-routes.js';
import { peerRoutes } from './peer-routes.js';
import { publicRoutes } from './public-routes.js';
import { resolveRoute, type Route } from './router.js';

export interface HttpServerOptions {
  readonly access: AccessControl;
  /** Serve HTTPS with this material; undefined = plain HTTP. */
  readonly tls: TlsMaterial | undefined;
  /** With TLS: refuse the handshake of clients without a certificate from the client CA. */
  readonly clientCertAuth: boolean;
  /** Connection bounds (--connections-max, --connections-per-source-max); defaults from limits. */
  readonly connectionsMax?: number;
  readonly connectionsPerSourceMax?: number;
  /** Told about every connection closed at a bound (metrics). */
  readonly onConnectionRefused?: (reason: ConnectionRefusal) => void;
}

/** What the HTTP edge reports: connections, bodies, requests. */
export interface HttpStats {
  readonly connections: ConnectionStats;
  readonly largeBodyBytes: number;
  readonly largeBodyBytesMax: number;
  readonly largeBodyRefusals: number;
  readonly requestsInFlight: number;
}

/** The node's HTTP(S) server with its bounds, and the two steps of a clean stop. */
export interface HttpEdge {
  readonly server: Server | HttpsServer;
  /**
   * Stops taking connections; requests still arriving on open ones are answered (the node
   * says shutting_down) with `connection: close`, so a keep-alive client sees an answer and
   * then a closed connection, not a reset. Idle connections are not cut here: a request may
   * be on its way on one (closing it would reset that request); they close at the end.
   */
  beginDrain(): void;
  /** Resolves once no request is being answered, or after `ms`. */
  idle(ms: number): Promise<void>;
  stats(): HttpStats;
}

/**
 * The node's HTTP(S) server (node:http or node:https): one route table, access checked in
 * one place before any handler, every error mapped in one place, every bound of the edge
 * applied here (docs/flow-control.md). Unexpected errors answer 500 and are logged; they
 * never take the node down.
 */
export function createHttpServer(node: NodeApi, logger: Logger, options: HttpServerOptions): HttpEdge {
  const bodies = new BodyBudget(limits.largeBodyBytesInFlightMax);
  const routes: Route[] = [...publicRoutes(node, bodies), ...peerRoutes(node, logger, bodies), ...opsRoutes(node, bodies), ...memberRoutes(node, bodies)];
  const common = {
    headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.httpRequestMs,
    connectionsCheckingInterval: limits.connectionsCheckIntervalMs, keepAlive: true,
  };
  const server = options.tls === undefined
    ? createHttp(common)
    : createHttps({ ...common, ...secureOptions(options.tls, options.clientCertAuth) });
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  let draining = false;
  let active = 0;
  let idleWaiters: (() => void)[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    active += 1;
    res.once('close', () => {
      active -= 1;
      if (active === 0) for (const w of idleWaiters.splice(0)) w();
    });
    if (draining) res.setHeader('connection', 'close');
    void (async () => {
      try {
        const path = rawPath(req.url);
        const { route, params } = resolveRoute(routes, req.method ?? 'GET', path);
        const admitted = options.access.authorize(req, route.access);
        const caller = admitted instanceof Promise ? await admitted : admitted;
        if (route.access.scope === 'peer' && !(route.access.joining && req.headers[HEADER_CLUSTER] === JOINING_CLUSTER_ID)) node.checkPeer(req.headers);
        await route.handler(req, res, params, caller);
      } catch (err) {
        if (!res.headersSent && !req.complete) req.resume();
        if (clientWentAway(req, err)) {
          logger.debug('client went away', { method: req.method, url: req.url?.slice(0, 200), err: String(err) });
          return;
        }
        if (sendError(res, err)) logger.error('request failed', { method: req.method, url: req.url?.slice(0, 200), err: String((err as Error)?.stack ?? err) });
      }
    })();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Answer once, then let go of the descriptor even if the client never closes its side.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable && !socket.writableEnded) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), limits.lingerAfterErrorMs).unref();
    logger.debug('client error', { err: String(err) });
  });
  if (options.tls !== undefined) {
    server.on('tlsClientError', (err) => logger.debug('TLS handshake failed', { err: String(err) }));
    answerPlainHttpOnTlsPort(server as HttpsServer);
  }
  const refusals = new LogLimiter(60_000);
  const guard = new ConnectionGuard(options.connectionsMax ?? limits.connectionsMaxDefault, options.connectionsPerSourceMax ?? limits.connectionsPerSourceMaxDefault, (reason, source) => {
    options.onConnectionRefused?.(reason);
    if (refusals.shouldLog(`${reason} ${source}`)) {
      const s = guard.stats();
      logger.warn('closed a connection at a limit', { reason, source, open: s.open, max: s.max, perSourceMax: s.perSourceMax });
    }
  });
  guardConnections(server, guard);
  return {
    server,
    beginDrain: () => {
      draining = true;
      // net.Server's close only stops listening; http.Server's would also cut idle keep-alive
      // connections, resetting a request that is on its way on one.
      NetServer.prototype.close.call(server);
    },
    idle: (ms) => (active === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    })),
    stats: () => ({
      connections: guard.stats(), largeBodyBytes: bodies.bytesReserved, largeBodyBytesMax: bodies.maxBytes,
      largeBodyRefusals: bodies.refusals, requestsInFlight: active,
    }),
  };
}

/** Puts the guard in front of every connection listener the server has (HTTP parser, TLS). */
function guardConnections(server: Server | HttpsServer, guard: ConnectionGuard): void {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!guard.admit(socket)) return;
    for (const listener of listeners) listener.call(server, socket);
  });
}

/**
 * The path of a request target as sent, without its query: routes match the raw path, so
 * `//x/write` is not read as host `x` and path `/write` (as new URL() would).
 */
export function rawPath(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** The client closed the connection mid-request: nothing to answer, and not a server error. */
function clientWentAway(req: IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error | undefined)?.message === 'aborted' || (req.destroyed && !req.complete);
}

/** TLS records start with this content type (handshake); an HTTP request starts with a letter. */
const TLS_HANDSHAKE_BYTE = 0x16;

/**
 * A plain-HTTP request to the TLS port would only see its connection dropped; like nginx,
 * answer it with a 400 that says to use https. The first byte of a connection decides:
 * a TLS handshake goes on to the TLS layer (which takes the byte back from the socket's
 * buffer), anything else gets the answer and the connection closes. A connection that sends
 * nothing is closed after the headers timeout, as before.
 */
function answerPlainHttpOnTlsPort(server: HttpsServer): void {
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_BYTE) {
        for (const listener of tlsListeners) listener.call(server, socket);
        return;
      }
      const body = JSON.stringify(errorBody('bad_request', 'this port speaks TLS: use https://',
        'give the CLI https:// endpoints (or --cacert, which makes host:port endpoints https)'));
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    socket.on('error', () => socket.destroy());
  });
}

/**
 * The TLS options of the server: our certificate, and the member and client CAs that
 * verify certificates presented to us. Certificates are always requested (peers must send
 * one); only with client certificate auth does the handshake refuse clients without one.
 */
export function secureOptions(tls: TlsMaterial, clientCertAuth: boolean): { cert: string; key: string; ca: string[]; requestCert: true; rejectUnauthorized: boolean; minVersion: 'TLSv1.2' } {
  return { cert: tls.cert, key: tls.key, ca: [tls.ca, tls.clientCa], requestCert: true, rejectUnauthorized: clientCertAuth, minVersion: 'TLSv1.2' };
}
