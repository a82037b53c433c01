import { Command, Flags } from '@oclif/core';
import { ShmemClient } from '../src/client/shmem-client.js';
import { CLIENT_FLAGS, clientOptions, type ClientFlags } from '../src/cli/client-flags.js';
import { reportError, UsageError } from '../src/cli/report.js';

export { UsageError } from '../src/cli/report.js';
export type { ClientFlags } from '../src/cli/client-flags.js';

/**
 * The base of every command: errors become messages and exit codes in one place
 * (src/cli/report.ts): 0 ok, 1 runtime error, 2 usage (oclif's parse errors, our own input
 * checks, invalid configuration); with --json anywhere on the command line, errors are JSON
 * too, parse errors included. Messages are for people: no stack traces.
 */
export abstract class ShmemCommand extends Command {
  protected jsonOutput = false;

  override async init(): Promise<void> {
    // Before parsing: a parse error (a missing argument) must honour --json as well.
    this.jsonOutput = this.argv.includes('--json');
    await super.init();
  }

  /** Reports a usage problem found before anything was sent: exit 2. */
  protected usage(message: string): never {
    throw new UsageError(message);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    // oclif's help and version requests are not errors.
    if ((err as { oclif?: { exit?: number } }).oclif?.exit === 0) return super.catch(err);
    process.exitCode = reportError(err, this.jsonOutput);
    return undefined;
  }
}

const F = CLIENT_FLAGS;
const CLIENT = 'CLIENT';

/** Shared by the client commands: --endpoints (SHMEM_ENDPOINTS) with failover, --json, timeouts, TLS, token. */
export abstract class ClientCommand extends ShmemCommand {
  // Text, environment variables and defaults come from src/cli/client-flags.ts (the fast path parses the same).
  static override baseFlags = {
    endpoints: Flags.string({ summary: F.endpoints.summary, env: F.endpoints.env, helpGroup: CLIENT }),
    json: Flags.boolean({ summary: F.json.summary, default: F.json.default, helpGroup: CLIENT }),
    'timeout-ms': Flags.integer({ summary: F['timeout-ms'].summary, default: F['timeout-ms'].default, min: F['timeout-ms'].min, helpGroup: CLIENT }),
    'connect-timeout-ms': Flags.integer({ summary: F['connect-timeout-ms'].summary, default: F['connect-timeout-ms'].default, min: F['connect-timeout-ms'].min, helpGroup: CLIENT }),
    cacert: Flags.string({ summary: F.cacert.summary, env: F.cacert.env, helpGroup: CLIENT }),
    cert: Flags.string({ summary: F.cert.summary, env: F.cert.env, helpGroup: CLIENT }),
    key: Flags.string({ summary: F.key.summary, env: F.key.env, helpGroup: CLIENT }),
    token: Flags.string({ summary: F.token.summary, env: F.token.env, helpGroup: CLIENT }),
  };

  /** The client for the parsed flags (with another attempt deadline if given); the caller closes it. */
  protected client(flags: ClientFlags, timeoutMs?: number): ShmemClient {
    return new ShmemClient(clientOptions(flags, timeoutMs));
  }
}
