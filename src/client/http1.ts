import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

/**
 * One HTTP/1.1 exchange on a fresh connection (`connection: close`), written on node:net or
 * node:tls directly. The CLI makes one or two requests per run, so keep-alive buys nothing,
 * and node:http's machinery is ~9 ms of a `shmem read` that is otherwise ~55 ms (issue 13's
 * target: within 1.5x of `node -e 0`). It speaks exactly what a shmem node answers: a status
 * line, headers, then a body of content-length bytes, chunked, or up to the close; interim
 * 1xx answers (100 Continue) are its sign of life.
 */

/** Builtins as CommonJS: their ESM imports cost a few milliseconds each (see src/cli/client-ops.ts). */
const net = process.getBuiltinModule('node:net');

export interface Http1Request {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** With an https URL: the CA, client certificate and key (PEM). */
  readonly tls?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined };
  /** Deadline of the whole exchange. */
  readonly timeoutMs: number;
  /** Deadline for the first byte from the server (an interim 100 Continue counts): proof it is alive. */
  readonly aliveMs: number;
  /** Largest answer read. */
  readonly bodyBytesMax: number;
}

export interface Http1Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * A failure of the exchange, worded for people; `code` is the socket's error code when there is
 * one; `sent`: the request had been written (the node may have acted on it), else it certainly
 * never reached the node (no connection, a failed TLS handshake).
 */
export class Http1Error extends Error {
  override readonly name = 'Http1Error';
  sent = false;
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

const HEAD_BYTES_MAX = 64 * 1024;

export function exchange(r: Http1Request): Promise<Http1Response> {
  const secure = r.url.protocol === 'https:';
  const host = r.url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(r.url.port || (secure ? 443 : 80));
  return new Promise((resolve, reject) => {
    let socket: Socket;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let sent = false;
    const finish = (err: Error | undefined, res?: Http1Response): void => {
      if (done) return;
      done = true;
      if (err instanceof Http1Error) err.sent = sent;
      clearTimeout(whole);
      clearTimeout(alive);
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const whole = setTimeout(() => finish(new Http1Error(`timed out after ${r.timeoutMs} ms`)), r.timeoutMs);
    const alive = setTimeout(() => finish(new Http1Error(`no sign of life within ${r.aliveMs} ms (not connected, or the node does not answer)`)), r.aliveMs);
    const requestHead = [
      `${r.method} ${r.url.pathname}${r.url.search} HTTP/1.1`,
      `host: ${r.url.host}`,
      'connection: close',
      ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`),
      ...(r.body === undefined ? [] : [`content-length: ${Buffer.byteLength(r.body)}`]),
    ].join('\r\n');
    // With `expect: 100-continue` the body waits for the node's interim answer, which it sends
    // as soon as it has read the headers: a node that never answers (stopped, hung) never got
    // the body and cannot act on it, so the request certainly did not happen and another
    // endpoint may be asked (`sent` stays false). Without it the body goes at once.
    const waitForContinue = r.body !== undefined && Object.entries(r.headers).some(([k, v]) => k.toLowerCase() === 'expect' && v.toLowerCase() === '100-continue');
    let bodyHeld = false;
    const send = (): void => {
      socket.write(`${requestHead}\r\n\r\n`);
      if (waitForContinue) {
        bodyHeld = true;
        return;
      }
      sent = true;
      if (r.body !== undefined) socket.write(r.body);
    };
    const releaseBody = (): void => {
      bodyHeld = false;
      sent = true;
      socket.write(r.body!);
    };
    if (secure) {
      const tls = process.getBuiltinModule('node:tls');
      const options: ConnectionOptions = {
        host, port, servername: net.isIP(host) ? undefined : host, ca: r.tls?.ca, cert: r.tls?.cert, key: r.tls?.key,
        rejectUnauthorized: true, ALPNProtocols: ['http/1.1'],
      };
      socket = tls.connect(options, send);
    } else {
      socket = net.connect({ host, port }, send);
    }
    // The final answer's head once read: where its body starts and how long it is (undefined: to the close).
    let head: { status: number; headers: Record<string, string>; bodyAt: number; length: number | undefined; chunked: boolean } | undefined;
    const all = (): Buffer => Buffer.concat(chunks, size);
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(alive);
      size += chunk.length;
      if (size > r.bodyBytesMax + HEAD_BYTES_MAX) {
        finish(new Http1Error(`the answer exceeds ${r.bodyBytesMax} bytes`));
        return;
      }
      chunks.push(chunk);
      // The first answer is 100 Continue: now the body. A final answer instead (401, 413)
      // means the node refused on the headers alone, and the body is never sent.
      if (bodyHeld) {
        const bytes = all();
        const interim = /^HTTP\/1\.[01] 1\d\d /.test(bytes.toString('latin1', 0, Math.min(bytes.length, 16)));
        if (interim && bytes.includes('\r\n\r\n')) releaseBody();
        else if (!interim && bytes.length >= 13) bodyHeld = false;
      }
      if (head === undefined) {
        const parsed = parseHead(all());
        if (parsed instanceof Error) {
          finish(parsed);
          return;
        }
        head = parsed;
      }
      // Counted, not re-read: the body is joined once, when it is all there.
      if (head?.length !== undefined && size >= head.bodyAt + head.length) {
        finish(undefined, { status: head.status, headers: head.headers, body: all().subarray(head.bodyAt, head.bodyAt + head.length) });
      }
    });
    socket.on('end', () => {
      if (head === undefined) {
        finish(new Http1Error(size === 0 ? 'the connection closed before an answer' : 'the connection closed in the middle of an answer'));
        return;
      }
      const rest = all().subarray(head.bodyAt);
      if (head.length !== undefined) finish(new Http1Error('the answer ended in the middle of its body'));
      else if (!head.chunked) finish(undefined, { status: head.status, headers: head.headers, body: rest });
      else {
        const body = dechunk(rest);
        finish(body instanceof Error || body === undefined ? body ?? new Http1Error('the answer ended in the middle of its body') : undefined,
          body instanceof Buffer ? { status: head.status, headers: head.headers, body } : undefined);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(new Http1Error(err.message, err.code)));
  });
}

/**
 * The head of the final answer in `bytes` (interim 1xx answers skipped): status, headers,
 * where the body starts and its length; undefined while incomplete; an Http1Error when it is
 * not HTTP.
 */
function parseHead(bytes: Buffer): { status: number; headers: Record<string, string>; bodyAt: number; length: number | undefined; chunked: boolean } | Http1Error | undefined {
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) return bytes.length - at > HEAD_BYTES_MAX ? new Http1Error('the answer\'s headers are too long') : undefined;
    const lines = bytes.toString('latin1', at, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!m) return new Http1Error('the answer is not HTTP/1.1');
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = end + 4;
    if (status >= 100 && status < 200) continue; // interim (100 Continue): the final answer follows
    const chunked = headers['transfer-encoding']?.toLowerCase().includes('chunked') === true;
    const lengthText = headers['content-length'];
    const length = chunked || lengthText === undefined ? undefined : Number(lengthText);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) return new Http1Error('the answer has a bad content-length');
    return { status, headers, bodyAt: at, length, chunked };
  }
}

/** The body of a complete chunked encoding, undefined while incomplete. */
function dechunk(bytes: Buffer): Buffer | Http1Error | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = bytes.indexOf('\r\n', at);
    if (nl < 0) return undefined;
    const n = Number.parseInt(bytes.toString('latin1', at, nl).split(';')[0]!, 16);
    if (!Number.isSafeInteger(n) || n < 0) return new Http1Error('the answer has a bad chunk size');
    if (n === 0) return Buffer.concat(parts);
    if (bytes.length < nl + 2 + n + 2) return undefined;
    parts.push(bytes.subarray(nl + 2, nl + 2 + n));
    at = nl + 2 + n + 2;
  }
}
