import { Command, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { ShmemClient, type ClientOptions } from '../src/client/shmem-client.js';
import { ConfigError, ShmemError } from '../src/errors.js';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:3030';

/**
 * The one place where errors become messages and exit codes: 0 ok, 1 runtime error,
 * 2 usage (oclif's parse errors, our own input checks, invalid configuration).
 * Messages are for people: no stack traces.
 */
export abstract class ShmemCommand extends Command {
  protected jsonOutput = false;

  /** Reports a usage problem found before anything was sent: exit 2. */
  protected usage(message: string): never {
    throw new UsageError(message);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof UsageError || err instanceof ConfigError) return this.fail(err, 2);
    if (err instanceof ShmemError) return this.fail(err, 1);
    return super.catch(err);
  }

  private fail(err: Error, exitCode: number): void {
    const code = err instanceof ShmemError ? err.code : 'usage';
    const hint = err instanceof ShmemError ? err.hint : undefined;
    if (this.jsonOutput) {
      process.stdout.write(`${JSON.stringify({ error: { code, message: err.message, ...(hint ? { hint } : {}) } })}\n`);
    } else {
      process.stderr.write(`Error: ${err.message}\n${hint ? `Hint: ${hint}\n` : ''}`);
    }
    process.exitCode = exitCode;
  }
}

/** Shared by the client commands: --endpoints (SHMEM_ENDPOINTS) with failover, --json, --timeout-ms. */
export abstract class ClientCommand extends ShmemCommand {
  static override baseFlags = {
    endpoints: Flags.string({
      summary: `Comma-separated node URLs, tried in order [default: ${DEFAULT_ENDPOINT}]`,
      env: 'SHMEM_ENDPOINTS',
      helpGroup: 'CLIENT',
    }),
    json: Flags.boolean({ summary: 'Print machine-readable JSON', default: false, helpGroup: 'CLIENT' }),
    'timeout-ms': Flags.integer({ summary: 'Deadline of each attempt against one node', default: 10_000, min: 1, helpGroup: 'CLIENT' }),
    cacert: Flags.string({ summary: 'PEM CA that signed the nodes\' certificates (bare host:port endpoints then use https)', env: 'SHMEM_CACERT', helpGroup: 'CLIENT' }),
    cert: Flags.string({ summary: 'PEM client certificate, for nodes started with --client-cert-auth', env: 'SHMEM_CERT', helpGroup: 'CLIENT' }),
    key: Flags.string({ summary: 'PEM private key of --cert', env: 'SHMEM_KEY', helpGroup: 'CLIENT' }),
    token: Flags.string({ summary: 'Bearer token for nodes started with --auth-file (prefer the env: the command line shows in ps)', env: 'SHMEM_TOKEN', helpGroup: 'CLIENT' }),
  };

  /** The client options for the parsed flags: endpoints, TLS files read, token. */
  protected clientOptions(flags: ClientFlags, timeoutMs: number = flags['timeout-ms']): ClientOptions {
    if ((flags.cert === undefined) !== (flags.key === undefined)) this.usage('--cert and --key go together');
    const read = (path: string | undefined, what: string): string | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        return this.usage(`${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    };
    const tls = { ca: read(flags.cacert, '--cacert'), cert: read(flags.cert, '--cert'), key: read(flags.key, '--key') };
    const secure = tls.ca !== undefined || tls.cert !== undefined;
    const token = flags.token?.trim();
    if (token === '') this.usage('--token is empty');
    return {
      endpoints: parseEndpoints(flags.endpoints ?? (secure ? DEFAULT_ENDPOINT.replace('http:', 'https:') : DEFAULT_ENDPOINT), (m) => this.usage(m), secure),
      timeoutMs, tls, token,
    };
  }

  /** The client for the parsed flags; the caller closes it. */
  protected client(flags: ClientFlags): ShmemClient {
    return new ShmemClient(this.clientOptions(flags));
  }
}

/** The flags every client command shares (baseFlags above). */
export interface ClientFlags {
  endpoints?: string | undefined;
  'timeout-ms': number;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  token?: string | undefined;
}

/** A problem with the command line itself. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--endpoints`: URLs or host:port (https when `secure`), comma-separated. */
export function parseEndpoints(text: string, fail: (message: string) => never, secure = false): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) fail('--endpoints is empty');
  return list.map((e) => {
    const withScheme = /^[a-z]+:\/\//i.test(e) ? e : `${secure ? 'https' : 'http'}://${e}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      return fail(`endpoint "${e}" is not a URL or host:port`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`endpoint "${e}" must use http:// or https://`);
    return url.origin;
  });
}
