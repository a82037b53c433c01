import type { LogFields, Logger } from '../../src/log/logger.js';
import type { Scope } from './world.js';

/**
 * The nodes' logger in the simulation: silent, or (replaying a seed with --log) lines with
 * the virtual time and the process, collected in `lines`.
 */
export function simLogger(lines: string[] | undefined, scope: Scope, base: LogFields = {}): Logger {
  const emit = (level: string, msg: string, fields?: LogFields): void => {
    if (!lines) return;
    const extra = { ...base, ...fields };
    lines.push(`${String(scope.now()).padStart(7)} ms ${scope.name.padEnd(6)} ${level.padEnd(5)} ${msg}${Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => simLogger(lines, scope, { ...base, ...fields }),
  };
}
