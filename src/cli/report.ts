import { ChangeRefusedError, ConfigError, ShmemError } from '../errors.js';
import { formatTag } from '../core/tag.js';
import type { Tag } from '../core/types.js';

/** A problem with the command line itself (exit 2, code `usage`). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The one mapping from an error to what the user sees and the exit code: 0 ok, 1 runtime
 * error, 2 usage (bad arguments, our own input checks before anything was sent, invalid
 * configuration). With `json`, the error is `{"error":{code,message,hint}}` on stdout, else
 * `Error: …` and `Hint: …` on stderr. Never a stack trace.
 */
export function reportError(err: unknown, json: boolean): number {
  const usage = err instanceof UsageError || err instanceof ConfigError || isOclifUsage(err);
  const code = err instanceof ShmemError ? err.code : usage ? 'usage' : 'internal';
  const hint = err instanceof ShmemError ? err.hint : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ChangeRefusedError) return reportRefusal(err, json);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  else process.stderr.write(`Error: ${message}\n${hint ? `Hint: ${hint}\n` : ''}`);
  // 3: the write may or may not have happened (outcome_unknown); a script reads before it writes again.
  return usage ? 2 : code === 'outcome_unknown' ? 3 : 1;
}

/**
 * A refused compare-and-set or add (exit 1): the current value goes to stdout, so a script can
 * retry from it without another read (`--json`: the error with `addr` and `current`).
 */
function reportRefusal(err: ChangeRefusedError, json: boolean): number {
  const current = err.current as { value: string | null; tag: Tag };
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message }, addr: err.addr, current })}\n`);
    return 1;
  }
  if (current.value !== null) process.stdout.write(`${current.value}\n`);
  const holds = current.value === null ? 'was never written' : `holds the value printed above (tag ${formatTag(current.tag)})`;
  process.stderr.write(`Error: ${err.code}: ${err.message}; address ${err.addr} ${holds}, nothing changed\n`);
  return 1;
}

/** oclif's own parse errors (missing argument, unknown flag) carry exit 2. */
function isOclifUsage(err: unknown): boolean {
  return (err as { oclif?: { exit?: number } } | undefined)?.oclif?.exit === 2;
}
