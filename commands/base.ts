import { Command, Flags } from '@oclif/core';
import { ShmemClient } from '../src/client/shmem-client.js';
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
  };

  /** The client for the parsed flags; the caller closes it. */
  protected client(flags: { endpoints?: string | undefined; 'timeout-ms': number }): ShmemClient {
    return new ShmemClient({ endpoints: parseEndpoints(flags.endpoints ?? DEFAULT_ENDPOINT, (m) => this.usage(m)), timeoutMs: flags['timeout-ms'] });
  }
}

/** A problem with the command line itself. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--endpoints`: URLs or host:port, comma-separated. */
export function parseEndpoints(text: string, fail: (message: string) => never): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) fail('--endpoints is empty');
  return list.map((e) => {
    const withScheme = /^[a-z]+:\/\//i.test(e) ? e : `http://${e}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      return fail(`endpoint "${e}" is not a URL or host:port`);
    }
    if (url.protocol !== 'http:') fail(`endpoint "${e}" must use http://`);
    return url.origin;
  });
}
