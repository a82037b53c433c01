/**
 * npm run sim -- [--seeds N] [--from S] [--seed N] [--nodes 3|5] [--mutation NAME] [--history FILE]
 *
 * Runs the deterministic simulation for many seeds (or replays one), checks every history
 * for linearizability and prints the counts. A failing seed is printed with the command that
 * replays it exactly; the exit code is 1 when any seed failed.
 */
import { writeFileSync } from 'node:fs';
import { defaultSimOptions, simulate, type SimMutations } from './simulator.js';

const MUTATIONS: Record<string, SimMutations> = {
  'read-without-write-back': { readWithoutWriteBack: true },
  'fast-path-when-self-has-max': { fastPathWhenSelfHasMax: true },
  'ack-before-persist': { ackBeforePersist: true },
  'minority-quorum': { quorumOverride: 1 },
  'wipe-without-recovery': { wipeWithoutRecovery: true },
};

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function intFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const mutationName = flag('mutation');
if (mutationName !== undefined && !(mutationName in MUTATIONS)) {
  console.error(`unknown --mutation "${mutationName}"; known: ${Object.keys(MUTATIONS).join(', ')}`);
  process.exit(2);
}
const nodes = intFlag('nodes', 3);
if (nodes < 1 || nodes > 9) {
  console.error('--nodes must be from 1 to 9');
  process.exit(2);
}
const single = flag('seed');
const from = single !== undefined ? intFlag('seed', 1) : intFlag('from', 1);
const count = single !== undefined ? 1 : intFlag('seeds', 100);
const mutations = mutationName ? MUTATIONS[mutationName]! : {};

const started = Date.now();
const totals = { seeds: 0, ops: 0, ok: 0, fail: 0, info: 0, faults: 0, wipes: 0, unknown: 0 };
const failed: number[] = [];
for (let seed = from; seed < from + count; seed++) {
  const r = simulate(defaultSimOptions(seed, { nodes, mutations }));
  totals.seeds += 1;
  totals.ops += r.counts.ops;
  totals.ok += r.counts.ok;
  totals.fail += r.counts.fail;
  totals.info += r.counts.info;
  totals.faults += r.counts.faults;
  totals.wipes += r.counts.wipes;
  if (single !== undefined) {
    console.log(JSON.stringify({ seed, ...r.counts, verdict: r.verdict.result }));
    const file = flag('history');
    if (file) writeFileSync(file, r.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }
  if (r.verdict.result === 'unknown') totals.unknown += 1;
  if (r.verdict.result === 'invalid') {
    failed.push(seed);
    console.log(`seed ${seed}: NOT linearizable at address ${r.verdict.addr}: ${r.verdict.explanation}`);
    for (const op of r.verdict.window) console.log(`  op ${op.id} process ${op.process} ${op.f} ${JSON.stringify(op.value)} [${op.call}, ${op.ret}] ${op.status}`);
    console.log(`  replay: npm run sim -- --seed ${seed}${nodes !== 3 ? ` --nodes ${nodes}` : ''}${mutationName ? ` --mutation ${mutationName}` : ''} --history /tmp/seed-${seed}.jsonl`);
  }
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`${totals.seeds} seeds, ${nodes} nodes${mutationName ? `, mutation ${mutationName}` : ''}: ${totals.ops} ops (${totals.ok} ok, ${totals.fail} failed, ${totals.info} unknown), ` +
  `${totals.faults} faults (${totals.wipes} wipes), ${failed.length} violations, ${totals.unknown} unchecked, ${secs}s`);
process.exit(failed.length > 0 ? 1 : 0);
