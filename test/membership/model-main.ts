/**
 * npm run model -- [--runs N] [--from S] [--max-members N] [--mutation NAME] [--seed N [--trace]]
 *
 * Runs the membership model check (test/membership/model.ts) over seeds and prints the totals;
 * `--seed N --trace` replays one run and prints its trace (adopted states, operations,
 * transfers, crashes). Exit 1 when a run fails a check.
 */
import { MODEL_MUTATIONS, runModel } from './model.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function intFlag(name: string, fallback: number, min: number, max: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const mutationName = flag('mutation');
if (mutationName !== undefined && !(mutationName in MODEL_MUTATIONS)) {
  console.error(`unknown --mutation "${mutationName}"; known: ${Object.keys(MODEL_MUTATIONS).join(', ')}`);
  process.exit(2);
}
const mutations = mutationName ? MODEL_MUTATIONS[mutationName] : {};
const maxMembers = intFlag('max-members', 5, 1, 5);
const single = flag('seed');
const from = single !== undefined ? intFlag('seed', 1, 0, 2 ** 31) : intFlag('from', 1, 0, 2 ** 31);
const runs = single !== undefined ? 1 : intFlag('runs', 1000, 1, 10_000_000);
const started = Date.now();
const totals = { ops: 0, ok: 0, changes: 0 };
const failed: string[] = [];
for (let seed = from; seed < from + runs; seed++) {
  const trace: string[] = [];
  const r = runModel({ seed, steps: 4_000, mutations, maxMembers, ...(single !== undefined && process.argv.includes('--trace') ? { trace } : {}) });
  if (trace.length > 0) console.log(trace.join('\n'));
  totals.ops += r.ops;
  totals.ok += r.ok;
  totals.changes += r.epochs - 1;
  const why = r.verdict.result === 'invalid' ? r.verdict.explanation : r.verdict.result === 'unknown' ? 'not checked in time' : r.problems[0];
  if (why !== undefined) {
    failed.push(String(seed));
    if (failed.length <= 5) console.log(`seed ${seed}: ${why}\n  replay: npm run model -- --seed ${seed}${maxMembers !== 5 ? ` --max-members ${maxMembers}` : ''}${mutationName ? ` --mutation ${mutationName}` : ''} --trace`);
  }
}
console.log(`${runs} runs, 1-${maxMembers} members${mutationName ? `, mutation ${mutationName}` : ''}: ${totals.ops} ops (${totals.ok} ok), ` +
  `${totals.changes} member-set changes, ${failed.length} failing runs${failed.length ? ` (first: ${failed.slice(0, 5).join(', ')})` : ''}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed.length > 0 ? 1 : 0;
