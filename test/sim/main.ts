/**
 * npm run sim -- [--seeds N] [--from S] [--seed N] [--nodes N] [--mutation NAME]
 *                [--faults a,b,...] [--history FILE] [--log]
 *
 * Runs the deterministic simulation of real nodes for many seeds (or replays one), checks
 * every history for linearizability and every run for liveness and bounded queues, and
 * prints the counts. A failing seed is printed with the command that replays it exactly;
 * replaying one seed prints its faults (and with --log the nodes' log lines). The exit code
 * is 1 when any seed failed.
 */
import { writeFileSync } from 'node:fs';
import { MUTATIONS, RECONFIGURE } from './mutations.js';
import { defaultSimOptions, FAULT_KINDS, simulate, type Fault, type FaultKind } from './simulator.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
function intFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${text}"`);
  return n;
}

const mutationName = flag('mutation');
if (mutationName !== undefined && !(mutationName in MUTATIONS)) fail(`unknown --mutation "${mutationName}"; known: ${Object.keys(MUTATIONS).join(', ')}`);
const nodes = intFlag('nodes', 3);
if (nodes < 1 || nodes > 9) fail('--nodes must be from 1 to 9');
const faultsText = flag('faults');
const faults = faultsText !== undefined ? faultsText.split(',').filter((f) => f !== '') as FaultKind[]
  : (mutationName ? MUTATIONS[mutationName]!.faults : undefined) ?? FAULT_KINDS;
for (const f of faults) if (!FAULT_KINDS.includes(f)) fail(`unknown fault "${f}"; known: ${FAULT_KINDS.join(', ')}`);
const single = flag('seed');
const from = single !== undefined ? intFlag('seed', 1) : intFlag('from', 1);
const count = single !== undefined ? 1 : intFlag('seeds', 100);
const mutations = mutationName ? MUTATIONS[mutationName]!.mutations : {};
const log = process.argv.includes('--log');
/** --reconfigure: 5 processes, 3 found the cluster, members are added, removed and replaced while it runs. */
const reconfigure = process.argv.includes('--reconfigure') || (mutationName !== undefined && MUTATIONS[mutationName]!.reconfigure === true);

const replay = (seed: number): string => `npm run sim -- --seed ${seed}${nodes !== 3 ? ` --nodes ${nodes}` : ''}${reconfigure ? ' --reconfigure' : ''}` +
  `${mutationName ? ` --mutation ${mutationName}` : ''}${faultsText !== undefined ? ` --faults ${faultsText}` : ''}`;

const started = Date.now();
const totals = { changes: 0, changesDone: 0, maxEpoch: 1, seeds: 0, ops: 0, ok: 0, fail: 0, info: 0, faults: 0, wipes: 0, unknown: 0, virtualMs: 0, channel: 0, link: 0, store: 0, convergedMs: 0 };
const byKind = new Map<Fault['kind'], number>();
const failed: number[] = [];
for (let seed = from; seed < from + count; seed++) {
  const r = await simulate(defaultSimOptions(seed, {
    nodes: reconfigure ? Math.max(nodes, 5) : nodes, mutations, faults, log: log && single !== undefined,
    ...(reconfigure ? RECONFIGURE : {}),
  }));
  totals.changes += r.counts.changes;
  totals.changesDone += r.counts.changesDone;
  totals.maxEpoch = Math.max(totals.maxEpoch, r.counts.maxEpoch);
  totals.seeds += 1;
  totals.ops += r.counts.ops;
  totals.ok += r.counts.ok;
  totals.fail += r.counts.fail;
  totals.info += r.counts.info;
  totals.faults += r.counts.faults;
  totals.wipes += r.counts.wipes;
  totals.virtualMs += r.counts.virtualMs;
  totals.channel = Math.max(totals.channel, r.counts.maxChannelOutstanding);
  totals.link = Math.max(totals.link, r.counts.maxLinkCalls);
  totals.store = Math.max(totals.store, r.counts.maxStoreQueued);
  totals.convergedMs = Math.max(totals.convergedMs, r.counts.convergedMs);
  for (const f of r.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  if (single !== undefined) {
    for (const line of r.log) console.log(line);
    for (const f of r.faults) console.log(`fault at ${f.atMs} ms: ${f.kind} ${f.member}${f.peers ? ` (${f.peers.join(', ')})` : ''} for ${f.durationMs} ms`);
    console.log(JSON.stringify({ seed, ...r.counts, verdict: r.verdict.result, problems: r.problems.length }));
    const file = flag('history');
    if (file) writeFileSync(file, r.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }
  if (r.verdict.result === 'unknown') totals.unknown += 1;
  const bad = r.verdict.result === 'invalid' || r.problems.length > 0;
  if (!bad) continue;
  failed.push(seed);
  if (r.verdict.result === 'invalid') {
    console.log(`seed ${seed}: NOT linearizable at address ${r.verdict.addr}: ${r.verdict.explanation}`);
    for (const op of r.verdict.window) console.log(`  op ${op.id} process ${op.process} ${op.f} ${JSON.stringify(op.value)} [${op.call}, ${op.ret}] ${op.status}`);
  }
  for (const p of r.problems.slice(0, 5)) console.log(`seed ${seed}: ${p}`);
  console.log(`  replay: ${replay(seed)} --history /tmp/seed-${seed}.jsonl`);
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`${totals.seeds} seeds, ${reconfigure ? `${Math.max(nodes, 5)} nodes (${RECONFIGURE.founders} founders)` : `${nodes} nodes`}${mutationName ? `, mutation ${mutationName}` : ''}: ${totals.ops} ops (${totals.ok} ok, ${totals.fail} failed, ${totals.info} unknown), ` +
  `${totals.faults} faults (${totals.wipes} wipes), ${(totals.virtualMs / 1000).toFixed(0)} virtual s, ${failed.length} failing seeds, ${totals.unknown} unchecked, ${secs}s`);
if (reconfigure) console.log(`member changes: ${totals.changes} asked, ${totals.changesDone} completed, highest epoch ${totals.maxEpoch}`);
if (count > 1) console.log(`catch-up: every replica held the same tags at most ${(totals.convergedMs / 1000).toFixed(1)} virtual s after every member recovered`);
if (count > 1) console.log(`largest queues: ${totals.channel} channel requests, ${totals.link} link calls, ${totals.store} uncommitted store batches`);
if (count > 1) console.log(`faults: ${[...byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
process.exit(failed.length > 0 ? 1 : 0);
