import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { limits } from '../core/limits.js';
import type { Logger } from '../log/logger.js';
import type { AccessControl } from '../security/access-control.js';
import type { TlsMaterial } from '../security/tls.js';
import type { Socket } from 'node:net';
import { errorBody, sendError } from './http-errors.js';
import type { NodeApi } from './node-api.js';
import { opsRoutes } from './ops-routes.js';
import { peerRoutes } from './peer-routes.js';
import { publicRoutes } from './public-routes.js';
import { resolveRoute, type Route } from './router.js';

/** Timeouts of the HTTP edge: slow or stuck clients cannot hold a node's sockets forever. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = limits.httpRequestMs;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface HttpServerOptions {
  readonly access: AccessControl;
  /** Serve HTTPS with this material; undefined = plain HTTP. */
  readonly tls: TlsMaterial | undefined;
  /** With TLS: refuse the handshake of clients without a certificate from the client CA. */
  readonly clientCertAuth: boolean;
}

/**
 * The node's HTTP(S) server (node:http or node:https): one route table, access checked in
 * one place before any handler, every error mapped in one place. Unexpected errors answer
 * 500 and are logged; they never take the node down.
 */
export function createHttpServer(node: NodeApi, logger: Logger, options: HttpServerOptions): Server | HttpsServer {
  const routes: Route[] = [...publicRoutes(node), ...peerRoutes(node, logger), ...opsRoutes(node)];
  const common = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAlive: true };
  const server = options.tls === undefined
    ? createHttp(common)
    : createHttps({ ...common, ...secureOptions(options.tls, options.clientCertAuth) });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        const path = rawPath(req.url);
        const { route, params } = resolveRoute(routes, req.method ?? 'GET', path);
        const admitted = options.access.authorize(req, route.access);
        const caller = admitted instanceof Promise ? await admitted : admitted;
        if (route.access.scope === 'peer') node.checkPeer(req.headers);
        await route.handler(req, res, params, caller);
      } catch (err) {
        if (!res.headersSent && !req.complete) req.resume();
        if (clientWentAway(req, err)) {
          logger.debug('client went away', { method: req.method, url: req.url, err: String(err) });
          return;
        }
        if (sendError(res, err)) logger.error('request failed', { method: req.method, url: req.url, err: String((err as Error)?.stack ?? err) });
      }
    })();
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    logger.debug('client error', { err: String(err) });
  });
  if (options.tls !== undefined) {
    server.on('tlsClientError', (err) => logger.debug('TLS handshake failed', { err: String(err) }));
    answerPlainHttpOnTlsPort(server as HttpsServer);
  }
  return server;
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
    socket.setTimeout(HEADERS_TIMEOUT_MS, () => socket.destroy());
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
