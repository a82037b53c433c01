/**
 * The catch-up benchmark (docs/catch-up.md), run by `npm run bench -- --catchup`:
 *
 * 1. A 3-node cluster starts and stops (SIGTERM); the data dirs of two members are then
 *    preloaded offline with `count` addresses (one tag, as if written while the third member
 *    was down: the bench's bulk loader, which writes through SqliteStore as a commit does).
 * 2. All three start again. The third member is behind by `count` addresses on both others,
 *    and nothing but catch-up brings them to it. A foreground load (50/50 reads and writes,
 *    `inFlight` at a time, through every member) runs until it has converged: every address on
 *    it, and its lag on both peers 0. The load uses its own FOREGROUND addresses, preloaded on
 *    all three alike, so the two phases differ only in catch-up running: on the lagging
 *    addresses themselves a read also loses its one-round fast path until they are caught up,
 *    which says nothing about what catch-up costs.
 * 3. The same load runs as long again (at most a minute) with catch-up idle: the foreground figures side by side.
 */
import { bulkLoad } from './bulk-load.js';
import { Cluster, http, type NodeProcess } from '../test/helpers/cluster.js';
import { percentile, runLoad, type RequestSpec, type Target } from './load.js';

/** Addresses of the foreground load, after the lagging ones, the same on every member. */
const FOREGROUND = 10_000;

export interface CatchUpBenchOptions {
  readonly count: number;
  readonly inFlight: number;
  readonly valueBytes: number;
}

export async function catchupBench(o: CatchUpBenchOptions): Promise<void> {
  console.log(`catch-up: a member that was down while ${o.count.toLocaleString('en')} addresses were written catches up from the other two, under a 50/50 load at ${o.inFlight} in flight`);
  const cluster = await Cluster.start(3, ['--log-level', 'warn', '--heartbeat-ms', '500']);
  try {
    const [a, b, behind] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    for (const n of cluster.nodes) await n.stop('SIGTERM');
    const loadStarted = performance.now();
    await Promise.all([a, b].map((n) => bulkLoad(n.dataDir, 0, o.count + FOREGROUND, o.valueBytes)));
    await bulkLoad(behind.dataDir, o.count, o.count + FOREGROUND, o.valueBytes);
    console.log(`  preload (bench bulk loader, offline, both members at once): ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
    for (const n of cluster.nodes) n.start();
    await cluster.waitReady();
    const targets: Target[] = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    const value = 'w'.repeat(o.valueBytes);
    const request = (i: number): RequestSpec => {
      const addr = o.count + ((i * 7919) % FOREGROUND);
      return i % 2 === 0 ? { method: 'POST', path: '/write', body: `{"addr":${addr},"value":"${value}"}` } : { method: 'GET', path: `/read/${addr}` };
    };

    // Foreground load in slices of 2 s until the member has caught up.
    const started = performance.now();
    const during: number[] = [];
    let ops = 0;
    let convergedSeconds: number | undefined;
    const samples: string[] = [];
    while (convergedSeconds === undefined) {
      const r = await runLoad(targets, o.inFlight, 2, request);
      ops += r.ops;
      during.push(...r.latenciesMs);
      const s = (await http(`${behind.url}/status`)).body;
      const lag = (s.catchup.behind as { changes: number | null }[]).reduce((n, l) => n + (l.changes ?? Infinity), 0);
      samples.push(`${Math.round((performance.now() - started) / 1000)} s: ${s.store.addresses.toLocaleString('en')} addresses, lag ${lag}`);
      if (s.store.addresses >= o.count + FOREGROUND && lag === 0) convergedSeconds = (performance.now() - started) / 1000;
      if (performance.now() - started > 900_000) throw new Error(`no convergence within 15 min: ${samples.slice(-3).join('; ')}`);
    }
    const duringSeconds = (performance.now() - started) / 1000;
    console.log(`  converged in ${convergedSeconds.toFixed(1)} s (${(o.count / convergedSeconds).toFixed(0)} addresses/s); progress: ${samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 6)) === 0).join('; ')}`);
    // Rates and percentiles need no equal length: a minute is plenty (a 1M run converges in minutes).
    const idle = await runLoad(targets, o.inFlight, Math.min(duringSeconds, 60), request);
    const sorted = Float64Array.from(during).sort();
    const row = (name: string, n: number, secs: number, lat: Float64Array): string =>
      `  ${name.padEnd(22)} ${(n / secs).toFixed(0).padStart(7)} ops/s   p50 ${percentile(lat, 50).toFixed(2).padStart(6)} ms   p99 ${percentile(lat, 99).toFixed(2).padStart(7)} ms`;
    console.log(row('during catch-up', ops, duringSeconds, sorted));
    console.log(row('catch-up idle (after)', idle.ops, idle.seconds, idle.latenciesMs));
    console.log(`  ratio during/idle: ops/s ${((ops / duringSeconds) / (idle.ops / idle.seconds)).toFixed(2)}, p99 ${(percentile(sorted, 99) / percentile(idle.latenciesMs, 99)).toFixed(2)}`);
  } finally {
    await cluster.destroy();
  }
}

