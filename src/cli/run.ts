import { flush, handle, run, type Interfaces } from '@oclif/core';
import { COMMAND_IDS } from './command-ids.js';
import { reportError, UsageError } from './report.js';

/**
 * Runs the oclif CLI on the command line, and answers an unknown command with the commands
 * that are nearest to it (exit 2) instead of oclif's bare "command get not found".
 */
export async function runOclif(loadOptions: Interfaces.LoadOptions): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    await run(argv, loadOptions);
    await flush();
  } catch (err) {
    if (/^command \S+ not found$/.test((err as Error)?.message ?? '')) {
      // The command words: the first, and the second when the first is a topic (service unit).
      const topics = new Set(COMMAND_IDS.filter((id) => id.includes(':')).map((id) => id.split(':')[0]!));
      const asked = argv.slice(0, topics.has(argv[0]!) ? 2 : 1).join(' ');
      const synonym = SYNONYMS[asked];
      const near = synonym ? [synonym] : nearest(asked, [...COMMAND_IDS.map((id) => id.replaceAll(':', ' ')), ...topics]);
      process.exitCode = reportError(new UsageError(
        `"${asked}" is not a shmem command${near.length > 0 ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : ''} (shmem help lists them)`,
      ), argv.includes('--json'));
      return;
    }
    await handle(err as Error);
  }
}

/** What people coming from other stores type. */
const SYNONYMS: Record<string, string> = { get: 'read', put: 'write', set: 'write', cat: 'read', info: 'status', dashboard: 'top' };

/** The candidates within a small edit distance of `word` (at most two), nearest first. */
export function nearest(word: string, candidates: readonly string[]): string[] {
  const scored = candidates.map((c) => ({ c, d: Math.min(distance(word, c), c.startsWith(word) && word.length >= 2 ? 1 : Infinity) }));
  const limit = Math.max(2, Math.floor(word.length / 3));
  return scored.filter((s) => s.d <= limit).sort((a, b) => a.d - b.d).slice(0, 2).map((s) => s.c);
}

/** Edit distance with transpositions (optimal string alignment): "stauts" is 1 from "status". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
