import type { ClientOptions } from '../client/shmem-client.js';
import { UsageError } from './report.js';

/** node:fs as CommonJS: the ESM import of it costs the fast path ~4 ms (see client-ops.ts). */
const { readFileSync } = process.getBuiltinModule('node:fs');

/** The endpoint every client command uses unless told otherwise. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3030';

/** One flag shared by the client commands: its environment variable, whether it takes a value, its default. */
export interface ClientFlagSpec {
  readonly summary: string;
  readonly env?: string;
  readonly kind: 'string' | 'integer' | 'boolean';
  readonly default?: number | boolean;
  readonly min?: number;
}

/**
 * The flags every client command takes, defined once: oclif builds its flags from these
 * (commands/base.ts), and the fast path of `read` and `write` (fast.ts) parses the same.
 */
export const CLIENT_FLAGS = {
  endpoints: { kind: 'string', env: 'SHMEM_ENDPOINTS', summary: `Comma-separated node URLs or host:port, tried in order [default: ${DEFAULT_ENDPOINT}]` },
  json: { kind: 'boolean', default: false, summary: 'Print machine-readable JSON (errors too)' },
  'timeout-ms': { kind: 'integer', default: 10_000, min: 1, summary: 'Deadline of each attempt against one node, its answer included' },
  'connect-timeout-ms': { kind: 'integer', default: 1_000, min: 1, summary: 'Deadline for one node to connect and acknowledge the request (HTTP 100 Continue), so a dead or stopped node is passed quickly' },
  cacert: { kind: 'string', env: 'SHMEM_CACERT', summary: 'PEM CA that signed the nodes\' certificates (bare host:port endpoints then use https)' },
  cert: { kind: 'string', env: 'SHMEM_CERT', summary: 'PEM client certificate, for nodes started with --client-cert-auth' },
  key: { kind: 'string', env: 'SHMEM_KEY', summary: 'PEM private key of --cert' },
  token: { kind: 'string', env: 'SHMEM_TOKEN', summary: 'Bearer token for nodes started with --auth-file (prefer the env: the command line shows in ps)' },
} as const satisfies Record<string, ClientFlagSpec>;

/** The parsed client flags, whichever parser read them. */
export interface ClientFlags {
  endpoints?: string | undefined;
  json: boolean;
  'timeout-ms': number;
  'connect-timeout-ms': number;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  token?: string | undefined;
}

/** The client options for parsed flags: endpoints parsed, TLS files read, token checked. Throws UsageError. */
export function clientOptions(flags: ClientFlags, timeoutMs: number = flags['timeout-ms']): ClientOptions {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UsageError('--cert and --key go together');
  const read = (path: string | undefined, what: string): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const tls = { ca: read(flags.cacert, '--cacert'), cert: read(flags.cert, '--cert'), key: read(flags.key, '--key') };
  const secure = tls.ca !== undefined || tls.cert !== undefined;
  const token = flags.token?.trim();
  if (token === '') throw new UsageError('--token is empty');
  return {
    endpoints: parseEndpoints(flags.endpoints ?? (secure ? DEFAULT_ENDPOINT.replace('http:', 'https:') : DEFAULT_ENDPOINT), secure),
    timeoutMs, connectTimeoutMs: Math.min(flags['connect-timeout-ms'], timeoutMs), tls, token,
  };
}

/** Parses `--endpoints`: URLs or host:port (https when `secure`), comma-separated. Throws UsageError. */
export function parseEndpoints(text: string, secure = false): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--endpoints is empty');
  return list.map((e) => {
    const withScheme = /^[a-z]+:\/\//i.test(e) ? e : `${secure ? 'https' : 'http'}://${e}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new UsageError(`endpoint "${e.slice(0, 80)}" is not a URL or host:port`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`endpoint "${e.slice(0, 80)}" must use http:// or https://`);
    return url.origin;
  });
}
