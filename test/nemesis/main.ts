/**
 * npm run nemesis -- [--seconds 60] [--clients 6] [--addrs 5] [--majority] [--tls] [--membership] [--seed N] [--history FILE]
 * Prints the counts and the verdict; exits 1 on a linearizability violation.
 */
import { runNemesis } from './nemesis.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return n;
};
const historyIndex = process.argv.indexOf('--history');
const historyFile = historyIndex >= 0 ? process.argv[historyIndex + 1] : `/tmp/shmem-nemesis-${Date.now()}.jsonl`;
const seed = arg('seed', Date.now() % 1_000_000);
const options = {
  seconds: arg('seconds', 60), clients: arg('clients', 6), addrs: arg('addrs', 5),
  majority: process.argv.includes('--majority'), seed, historyFile: historyFile!, log: (l: string) => console.log(l),
  tls: process.argv.includes('--tls'), membership: process.argv.includes('--membership'),
};
console.log(`nemesis: ${options.seconds}s, ${options.clients} clients, ${options.addrs} addresses, seed ${seed}${options.majority ? ', majority outages' : ''}${options.tls ? ', mutual TLS + cluster secret' : ''}${options.membership ? ', member changes' : ''}`);
const r = await runNemesis(options);
const c = r.counts;
console.log(`ops ${c.ops}: ${c.ok} ok, ${c.failed} failed, ${c.unknown} unknown; faults: ${c.kills} kills, ${c.stops} stops, ${c.wipes} wipes, ${c.majorityOutages} majority outages`);
if (options.membership) console.log(`member changes: ${c.adds} adds, ${c.removes} removes, ${c.replaces} replaces asked; ${c.changesFailed} failed (nothing changed)`);
if (options.majority) console.log(`while a majority was down: ${r.duringOutages.refused} operations refused, ${r.duringOutages.succeeded} succeeded`);
console.log(`history: ${historyFile}`);
if (r.convergence.differing !== undefined) {
  console.log(`verdict: the members did not converge after the faults: ${r.convergence.differing}`);
  process.exit(1);
}
for (const c of r.counters) console.log(`counter ${c.addr}: final ${c.final}, ${c.acked} adds acknowledged, ${c.unknown} unknown${c.problem ? `: ${c.problem}` : ''}`);
const locksWon = r.locks.filter((l) => l.won === 1).length;
console.log(`locks: ${r.locks.length} races of 16 clients; ${locksWon} with one acknowledged winner, ${r.locks.length - locksWon} decided by an unknown outcome or none; ${r.locks.reduce((n, l) => n + l.lost, 0)} losers told the holder; ${r.locks.filter((l) => l.problem).length} wrong`);
for (const l of r.locks.filter((x) => x.problem)) console.log(`  lock ${l.addr}: ${l.problem}`);
const rmwProblems = [...r.counters, ...r.locks].filter((x) => x.problem);
if (rmwProblems.length > 0) {
  console.log('verdict: a counter or a lock is wrong');
  process.exit(1);
}
if (r.duringOutages.succeeded > 0) {
  console.log('verdict: an operation succeeded while a majority was down');
  process.exit(1);
}
if (r.verdict.result === 'valid') {
  console.log(`verdict: linearizable (${r.verdict.operations} operations over ${r.verdict.addresses} addresses)`);
} else if (r.verdict.result === 'unknown') {
  console.log(`verdict: unknown (${r.verdict.reason})`);
  process.exit(1);
} else {
  console.log(`verdict: NOT linearizable at address ${r.verdict.addr}: ${r.verdict.explanation}`);
  for (const op of r.verdict.window) console.log(`  process ${op.process} ${op.f} ${JSON.stringify(op.value)} events [${op.call}, ${op.ret}] ${op.status}`);
  process.exit(1);
}
