import { ConfigError, ShmemError } from '../errors.js';

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
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  else process.stderr.write(`Error: ${message}\n${hint ? `Hint: ${hint}\n` : ''}`);
  // 3: the write may or may not have happened (outcome_unknown); a script reads before it writes again.
  return usage ? 2 : code === 'outcome_unknown' ? 3 : 1;
}

/** oclif's own parse errors (missing argument, unknown flag) carry exit 2. */
function isOclifUsage(err: unknown): boolean {
  return (err as { oclif?: { exit?: number } } | undefined)?.oclif?.exit === 2;
}
