/**
 * npm run bench -- [--vs-etcd] [--seconds 5] [--addrs 1000] [--value-bytes 16] [--nodes 3|5]
 *                  [--durability full|normal] [--in-flight 1,16,64] [--workloads write,read,mixed]
 *                  [--tls]   (TLS and auth on both sides: shmem with https, mutual TLS between members and a
 *                             bearer token per request; etcd with TLS, client and peer certificate auth)
 *                  [--no-million] (by default the run ends with write and read at 64 in flight over
 *                             1,000,000 addresses beside the same cells over the run's addresses, and the ratios)
 * npm run bench -- --soak MINUTES [--soak-out DIR] [--in-flight 16]
 *                  (memory under load: 50/50 at 16 in flight, each node's memory every 10 s; bench/soak.ts)
 * npm run bench -- --value-sweep [--vs-etcd] [--seconds 5]
 *                  (16 B to 1 MiB values: MB/s and p99 at 1 and 16 in flight, and the small operations' p99 beside 1 MiB writes)
 * npm run bench -- --catchup [--addrs 1000000] [--in-flight 16]
 *                  (a member down during a preload catches up: time to converge, foreground during/idle; bench/catchup.ts)
 * npm run bench -- --rmw [--vs-etcd] [--seconds 5] [--in-flight 1,16,64]
 *                  (increments on one contended address and over 1,000: shmem's add beside etcd's read + txn; bench/rmw.ts)
 *
 * Starts a fresh shmem cluster on loopback (temporary data dirs), drives it with the closed-loop
 * generator in bench/load.ts, and prints ops/s and latency percentiles per workload and
 * concurrency; with --vs-etcd, the same against a 3-member etcd cluster and the ratios. With
 * --vs-etcd both clusters are up together and each cell runs on shmem then at once on etcd:
 * this shared 2-core VM drifts by a factor of 2 within minutes (steal time), and interleaving
 * keeps such drifts out of the ratios.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limits } from '../src/core/limits.js';
import { createToken } from '../src/security/tokens.js';
import { TestPki } from '../test/helpers/certs.js';
import { bulkLoadCluster } from './bulk-load.js';
import { Cluster, freePorts, http, NodeProcess, type ClientTls } from '../test/helpers/cluster.js';
import { catchupBench } from './catchup.js';
import { measureFloor, printFloor, type Floor } from './floor.js';
import { etcdMake, shmemMake, valueSweep } from './value-sweep.js';
import { startEtcd } from './etcd.js';
import { percentile, runLoad, type RequestSpec, type Target } from './load.js';
import { soak } from './soak.js';
import { printRmwCells, runIncrements, type RmwCell } from './rmw.js';

/** The flags the bench knows: with a value, and switches. Anything else is refused before a cluster starts. */
const VALUE_FLAGS = ['seconds', 'addrs', 'value-bytes', 'nodes', 'durability', 'in-flight', 'workloads', 'soak', 'soak-out'];
const SWITCHES = ['vs-etcd', 'tls', 'value-sweep', 'member-change', 'catchup', 'no-million', 'rmw'];
const USAGE = `npm run bench -- [--vs-etcd] [--seconds 5] [--addrs 1000] [--value-bytes 16] [--nodes 3|5]
                 [--durability full|normal] [--in-flight 1,16,64] [--workloads write,read,mixed] [--tls] [--no-million]
npm run bench -- --soak MINUTES [--soak-out DIR] [--in-flight 16]
npm run bench -- --value-sweep [--vs-etcd] [--seconds 5]
npm run bench -- --catchup [--addrs 1000000] [--in-flight 16]
npm run bench -- --rmw [--vs-etcd] [--seconds 5] [--in-flight 1,16,64]
(bench/main.ts says what each does)`;
{
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.startsWith('--') ? args[i]!.slice(2) : undefined;
    if (name !== undefined && SWITCHES.includes(name)) continue;
    if (name !== undefined && VALUE_FLAGS.includes(name) && i + 1 < args.length && !args[i + 1]!.startsWith('--')) {
      i += 1;
      continue;
    }
    console.error(`${name !== undefined && VALUE_FLAGS.includes(name) ? `--${name} needs a value` : `"${args[i]}" is not a bench flag`}\n${USAGE}`);
    process.exit(2);
  }
}

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
function intOpt(name: string, fallback: number, min: number, max: number): number {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return v;
}

const seconds = intOpt('seconds', 5, 1, 3600);
const addrs = intOpt('addrs', 1000, 1, 1_000_000);
const valueBytes = intOpt('value-bytes', 16, 1, 1_000_000);
const nodes = intOpt('nodes', 3, 1, 5);
const durability = opt('durability', 'full');
const inFlights = opt('in-flight', '1,16,64').split(',').map(Number);
const workloads = opt('workloads', 'write,read,mixed').split(',') as ('write' | 'read' | 'mixed')[];
const vsEtcd = process.argv.includes('--vs-etcd');
const soakMinutes = intOpt('soak', 0, 0, 24 * 60);
const soakOut = opt('soak-out', join(tmpdir(), 'shmem-soak'));
const tls = process.argv.includes('--tls');
const sweep = process.argv.includes('--value-sweep');
/** Time a change of the member set (3 -> 5: two `member add`s) with the addresses stored, under a client load. */
const memberChange = process.argv.includes('--member-change');
/** Increments (compare-and-set and add, issue 31) instead of the read and write cells. */
const rmw = process.argv.includes('--rmw');
const problems = [
  ...(['full', 'normal'].includes(durability) ? [] : [`--durability must be full or normal, got "${durability}"`]),
  ...(inFlights.every((n) => Number.isInteger(n) && n >= 1 && n <= 1024) ? [] : [`--in-flight must be integers from 1 to 1024, got "${opt('in-flight', '')}"`]),
  ...(workloads.every((w) => ['write', 'read', 'mixed'].includes(w)) ? [] : [`--workloads must be write, read and/or mixed, got "${opt('workloads', '')}"`]),
];
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(2);
}

const value = 'v'.repeat(valueBytes);
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const etcdValue = b64(value);

type Cell = { workload: string; inFlight: number; opsPerSec: number; p50: number; p99: number; p999: number; errors: number; cpuPerOpUs?: number; writtenPerOpKiB?: number };

/**
 * The i-th request of a cell over `count` addresses: its address in a scattered order (a prime
 * stride makes i -> address a permutation), a write or a read (mixed: every other one a write).
 */
function requestOf(make: typeof shmemMake, count: number, workload: string, i: number): RequestSpec {
  const stride = count % 7919 === 0 ? 1 : 7919;
  const write = workload === 'write' || (workload === 'mixed' && i % 2 === 0);
  return make(write ? 'write' : 'read', (i * stride) % count, value);
}
const shmemRequest = (workload: string, i: number): RequestSpec => requestOf(shmemMake, addrs, workload, i);
const etcdRequest = (workload: string, i: number): RequestSpec => requestOf(etcdMake, addrs, workload, i);

/** From this many addresses on, preloads skip the one-write-per-address API path (issue 17, step 5). */
const BULK_PRELOAD_FROM = 10_000;
/** etcd's default --max-txn-ops: puts per preload transaction. */
const ETCD_TXN_OPS = 128;

/**
 * Writes every address once, so reads find values. Up to BULK_PRELOAD_FROM addresses through
 * the API (i -> i * stride mod addrs is a permutation); from there on shmem's members are
 * stopped and loaded offline by the bench's bulk loader (bench/bulk-load.ts), and etcd takes
 * transactions of ETCD_TXN_OPS puts: a million addresses in seconds, not minutes.
 */
async function preload(name: 'shmem' | 'etcd', targets: Target[], make: (w: string, i: number) => RequestSpec, count = addrs, shmem = cluster): Promise<void> {
  const started = performance.now();
  let how = 'through the API, one write per address';
  if (count < BULK_PRELOAD_FROM) {
    const r = await runLoad(targets, 64, 24 * 3600, (i) => make('write', i), count);
    if (r.errors > 0 || r.ops < count) throw new Error(`${name}: preload wrote ${r.ops} of ${count} addresses (${r.errors} errors)`);
  } else if (name === 'shmem') {
    how = 'bench bulk loader, members stopped';
    await bulkLoadCluster(shmem, count, valueBytes);
  } else {
    how = `transactions of ${ETCD_TXN_OPS} puts`;
    const txns = Math.ceil(count / ETCD_TXN_OPS);
    const r = await runLoad(targets, 16, 24 * 3600, (t) => etcdPreloadTxn(t), txns);
    if (r.errors > 0 || r.ops < txns) throw new Error(`${name}: preload committed ${r.ops} of ${txns} transactions (${r.errors} errors)`);
  }
  if (count >= BULK_PRELOAD_FROM) console.log(`${name}: preloaded ${count.toLocaleString('en')} addresses in ${((performance.now() - started) / 1000).toFixed(1)} s (${how})`);
}

/** One etcd transaction putting addresses t*ETCD_TXN_OPS and on. */
function etcdPreloadTxn(t: number): RequestSpec {
  const puts: string[] = [];
  for (let addr = t * ETCD_TXN_OPS; addr < Math.min(addrs, (t + 1) * ETCD_TXN_OPS); addr++) puts.push(`{"requestPut":{"key":"${b64(`k${addr}`)}","value":"${etcdValue}"}}`);
  return { method: 'POST', path: '/v3/kv/txn', body: `{"success":[${puts.join(',')}]}` };
}

/** CPU seconds (user + system) the shmem node processes have used so far, from /proc/<pid>/stat. */
function nodesCpuSeconds(of: Cluster = cluster): number {
  const tick = 100; // USER_HZ: 100 on Linux everywhere it runs
  let total = 0;
  for (const n of of.nodes) {
    const pid = n.child?.pid;
    if (pid === undefined || !n.running) continue;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime (fields 14 and 15 of stat)
  }
  return total;
}

/** Sums and counts of the histograms that break an operation down (issue 17), over every member. */
async function phaseTotals(targets: Target[]): Promise<Map<string, { sum: number; count: number }>> {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const t of targets) {
    const text = (await http(`${t.tls ? 'https' : 'http'}://${t.host}:${t.port}/metrics`, undefined, clientTls)).text;
    for (const m of text.matchAll(/^(shmem_operation_phase_duration_seconds|shmem_sqlite_commit_duration_seconds|shmem_sqlite_commit_wait_seconds)_(sum|count)(\{[^}]*\})? (\S+)$/gm)) {
      const key = `${m[1]}${m[3] ?? ''}`;
      const e = totals.get(key) ?? { sum: 0, count: 0 };
      e[m[2] as 'sum' | 'count'] += Number(m[4]);
      totals.set(key, e);
    }
  }
  return totals;
}

/** The mean of each phase over a cell, in ms, from the totals before and after it. */
function phaseBreakdown(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>, op: string): string {
  const mean = (key: string): string => {
    const a = after.get(key);
    const b = before.get(key) ?? { sum: 0, count: 0 };
    if (!a || a.count === b.count) return '-';
    return `${(((a.sum - b.sum) / (a.count - b.count)) * 1000).toFixed(3)} ms`;
  };
  const phase = (p: string): string => mean(`shmem_operation_phase_duration_seconds{op="${op}",phase="${p}"}`);
  return `coordinator: query ${phase('query')}, update ${phase('update')}; replicas: wait for a commit ${mean('shmem_sqlite_commit_wait_seconds')}, commit ${mean('shmem_sqlite_commit_duration_seconds')} (means)`;
}

/** Bytes the shmem node processes have written so far (wchar of /proc/<pid>/io: every write(2), WAL and checkpoints included). */
function nodesBytesWritten(of: Cluster = cluster): number {
  let total = 0;
  for (const n of of.nodes) {
    const pid = n.child?.pid;
    if (pid === undefined || !n.running) continue;
    total += Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  }
  return total;
}

async function cell(name: string, targets: Target[], make: (w: string, i: number) => RequestSpec, workload: string, inFlight: number, shmem: Cluster = cluster, label = name): Promise<Cell> {
  const phasesBefore = name === 'shmem' && inFlight === 1 && workload !== 'mixed' ? await phaseTotals(targets) : undefined;
  const cpuBefore = name === 'shmem' ? nodesCpuSeconds(shmem) : 0;
  const writtenBefore = name === 'shmem' ? nodesBytesWritten(shmem) : 0;
  const r = await runLoad(targets, inFlight, seconds, (i) => make(workload, i));
  // Node CPU and bytes written per operation, summed over the members (each operation costs work on several).
  const cpuPerOpUs = name === 'shmem' && r.ops > 0 ? ((nodesCpuSeconds(shmem) - cpuBefore) / r.ops) * 1e6 : undefined;
  const writtenPerOpKiB = name === 'shmem' && r.ops > 0 ? (nodesBytesWritten(shmem) - writtenBefore) / r.ops / 1024 : undefined;
  const c: Cell = {
    workload, inFlight, opsPerSec: r.ops / r.seconds, errors: r.errors,
    p50: percentile(r.latenciesMs, 50), p99: percentile(r.latenciesMs, 99), p999: percentile(r.latenciesMs, 99.9),
    ...(cpuPerOpUs !== undefined ? { cpuPerOpUs } : {}), ...(writtenPerOpKiB !== undefined ? { writtenPerOpKiB } : {}),
  };
  const extra = `${cpuPerOpUs !== undefined ? `  node CPU ${cpuPerOpUs.toFixed(0)} µs/op` : ''}${writtenPerOpKiB !== undefined && workload !== 'read' ? `  written ${writtenPerOpKiB.toFixed(1)} KiB/op` : ''}`;
  console.log(`${label.padEnd(6)} ${workload.padEnd(6)} ${String(inFlight).padStart(3)} in flight  ${c.opsPerSec.toFixed(0).padStart(7)} ops/s  p50 ${c.p50.toFixed(2)}ms  p99 ${c.p99.toFixed(2)}ms  p99.9 ${c.p999.toFixed(2)}ms${extra}${c.errors ? `  ${c.errors} errors` : ''}`);
  if (phasesBefore) console.log(`       where a ${workload}'s time went: ${phaseBreakdown(phasesBefore, await phaseTotals(targets), workload)}`);
  return c;
}

/**
 * Million-address cells beside thousand-address ones, in the same run (issue 30, item 6): a
 * second shmem cluster holding MILLION addresses (bulk loaded) runs write and read at 64 in
 * flight, each cell right after the same cell on the main cluster (1,000 addresses), twice;
 * then the ratios, and what a write costs at each size (node CPU, bytes written).
 */
const MILLION = 1_000_000;
async function millionCells(mainTargets: Target[], extraArgs: readonly string[], security: Partial<Target>): Promise<void> {
  const big = await Cluster.start(nodes, extraArgs, clientTls);
  try {
    const bigTargets = big.nodes.map((n) => ({ host: '127.0.0.1', port: n.port, ...security }));
    await preload('shmem', bigTargets, (w, i) => requestOf(shmemMake, MILLION, w, i), MILLION, big);
    console.log(`\nmillion-address cells: each cell on ${addrs.toLocaleString('en')} addresses, then at once on ${MILLION.toLocaleString('en')} (a cluster of its own), two rounds`);
    const pairs: { workload: string; small: Cell; large: Cell }[] = [];
    for (let round = 0; round < 2; round++) {
      for (const workload of ['write', 'read'] as const) {
        const small = await cell('shmem', mainTargets, shmemRequest, workload, 64, cluster, '1k');
        const large = await cell('shmem', bigTargets, (w, i) => requestOf(shmemMake, MILLION, w, i), workload, 64, big, '1M');
        pairs.push({ workload, small, large });
      }
    }
    console.log('1M / 1k at 64 in flight       ops/s     p99   CPU/op  written/op');
    for (const { workload, small, large } of pairs) {
      const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2)).padStart(8);
      console.log(`${workload.padEnd(6)}                   ${f(large.opsPerSec / small.opsPerSec)}${f(large.p99 / small.p99)}${f(large.cpuPerOpUs! / small.cpuPerOpUs!)}${workload === 'write' ? f(large.writtenPerOpKiB! / small.writtenPerOpKiB!) : '        -'}`);
    }
  } finally {
    await big.destroy();
  }
}

/**
 * Grows the cluster by two members (`member add` of nodes started with --join) while clients
 * write at 16 in flight, and prints how long each change took (agreement, joint phase, the
 * state transfer of every stored address, retirement) and what the clients saw meanwhile,
 * against the same load just before.
 */
async function timeMemberChange(targets: Target[]): Promise<void> {
  const before = await runLoad(targets, 16, seconds, (i) => shmemRequest('write', i));
  const ports = await freePorts(2);
  const joiners = ports.map((p) => new NodeProcess(p, [], join(cluster.dir, `joined-${p}`), [...cluster.node(0).extraArgs, '--join', `127.0.0.1:${cluster.node(0).port}`]));
  for (const j of joiners) {
    j.clientTls = clientTls;
    cluster.nodes.push(j);
    j.start();
  }
  await Promise.all(joiners.map((j) => j.waitFor('/livez', 60_000)));
  let running = true;
  const load = (async () => {
    const results = [];
    while (running) results.push(await runLoad(targets, 16, 1, (i) => shmemRequest('write', i)));
    return results;
  })();
  const changes: string[] = [];
  const started = performance.now();
  for (const j of joiners) {
    const t = performance.now();
    const r = await http(`${cluster.node(0).url}/members`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'add', address: `127.0.0.1:${j.port}` }),
      signal: AbortSignal.timeout(900_000),
    }, clientTls);
    if (r.status !== 200) throw new Error(`member add 127.0.0.1:${j.port}: ${r.status} ${r.text}`);
    changes.push(`epoch ${r.body.epoch}: ${r.body.registersCopied} registers copied, ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const totalS = (performance.now() - started) / 1000;
  running = false;
  const during = await load;
  const ops = during.reduce((n, r) => n + r.ops, 0);
  const secs = during.reduce((n, r) => n + r.seconds, 0);
  const errors = during.reduce((n, r) => n + r.errors, 0);
  const lat = Float64Array.from(during.flatMap((r) => Array.from(r.latenciesMs))).sort();
  console.log(`member change 3 -> 5 with ${addrs} addresses: ${totalS.toFixed(1)} s (${changes.join('; ')})`);
  console.log(`  writes at 16 in flight before: ${(before.ops / before.seconds).toFixed(0)} ops/s, p99 ${percentile(before.latenciesMs, 99).toFixed(2)} ms; ` +
    `during the changes: ${(ops / secs).toFixed(0)} ops/s, p99 ${percentile(lat, 99).toFixed(2)} ms, ${errors} errors`);
}

if (process.argv.includes('--catchup')) {
  await catchupBench({ count: process.argv.includes('--addrs') ? addrs : 1_000_000, inFlight: process.argv.includes('--in-flight') ? inFlights[0]! : 16, valueBytes });
  process.exit(0);
}

console.log(`shmem bench: ${nodes} nodes, durability ${durability}, ${addrs} addresses, ${valueBytes}-byte values, ${seconds}s per cell, closed loop over keep-alive connections${tls ? ', TLS and auth on' : ''}`);
// The floor of an operation on this machine, first, in the same run as the cells (bench/floor.ts).
const floor: Floor = await measureFloor();
printFloor(floor);
// --tls: a test PKI made now with openssl, and a write token in an auth file.
const pki = tls ? TestPki.make() : undefined;
const token = tls ? (await createToken('write', 'bench')) : undefined;
if (pki && token) writeFileSync(join(pki.dir, 'auth'), `${token.line}\n`);
const clientTls: ClientTls | undefined = pki && token ? { ca: pki.ca, token: token.token } : undefined;
const securityFlags = pki ? [...pki.memberFlags(), '--auth-file', join(pki.dir, 'auth')] : [];
// Nodes run with the default heartbeat, as operators run them.
const nodeArgs = ['--durability', durability, '--log-level', 'warn', '--heartbeat-ms', String(limits.heartbeatIntervalMsDefault), ...securityFlags];
const cluster = await Cluster.start(nodes, nodeArgs, clientTls);
const etcd = vsEtcd ? await startEtcd(3, pki).catch(async (err: unknown) => {
  await cluster.destroy();
  pki?.remove();
  throw err;
}) : undefined;
const shmemCells: Cell[] = [];
const rmwCells: RmwCell[] = [];
const etcdCells: Cell[] = [];
try {
  const security = pki && token ? { tls: { ca: readFileSync(pki.ca, 'utf8') }, headers: { authorization: `Bearer ${token.token}` } } : {};
  const shmemTargets = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port, ...security }));
  if (etcd) console.log(`etcd: ${etcd.version}; ${etcd.flags}`);
  if (etcd) console.log('Both clusters run side by side; each cell runs on shmem, then at once on etcd, so drifts in machine speed hit both alike.');
  if (!rmw) await preload('shmem', shmemTargets, shmemRequest);
  if (memberChange) await timeMemberChange(shmemTargets);
  if (soakMinutes > 0) {
    const soakNodes = cluster.nodes.map((n, i) => ({
      pid: n.child!.pid!, target: shmemTargets[i]!,
      metrics: async () => (await http(`${n.url}/metrics`, undefined, clientTls)).text,
    }));
    await soak(soakNodes, soakMinutes, (i) => shmemRequest('mixed', i), soakOut, process.argv.includes('--in-flight') ? inFlights[0]! : 16);
  }
  if (rmw) {
    for (const shape of ['contended', 'spread'] as const) {
      for (const inFlight of inFlights) {
        rmwCells.push(await runIncrements('shmem', shmemTargets, shape, inFlight, seconds, addrs));
        if (etcd) rmwCells.push(await runIncrements('etcd', etcd.targets, shape, inFlight, seconds, addrs));
      }
    }
  }
  if (etcd && !rmw) await preload('etcd', etcd.targets, etcdRequest);
  if (sweep) await valueSweep([{ name: 'shmem', targets: shmemTargets, make: shmemMake }, ...(etcd ? [{ name: 'etcd', targets: etcd.targets, make: etcdMake }] : [])], seconds);
  for (const workload of soakMinutes > 0 || sweep || rmw ? [] : workloads) {
    for (const inFlight of inFlights) {
      shmemCells.push(await cell('shmem', shmemTargets, shmemRequest, workload, inFlight));
      if (etcd) etcdCells.push(await cell('etcd', etcd.targets, etcdRequest, workload, inFlight));
    }
  }
  // The million-address cells (issue 30): by default beside a thousand-address run.
  if (soakMinutes === 0 && !sweep && !rmw && !memberChange && addrs < MILLION && !process.argv.includes('--no-million')) await millionCells(shmemTargets, nodeArgs, security);
} finally {
  await cluster.destroy();
  await etcd?.stop();
  pki?.remove();
}
if (rmw) printRmwCells(rmwCells);
if (etcd && shmemCells.length > 0) {
  console.log('\nshmem / etcd            ops/s     p50      p99    p99.9   (ops/s above 1 and latencies below 1 favour shmem)');
  for (const s of shmemCells) {
    const e = etcdCells.find((c) => c.workload === s.workload && c.inFlight === s.inFlight)!;
    const f = (x: number): string => x.toFixed(2).padStart(8);
    console.log(`${s.workload.padEnd(6)} ${String(s.inFlight).padStart(3)} in flight ${f(s.opsPerSec / e.opsPerSec)} ${f(s.p50 / e.p50)} ${f(s.p99 / e.p99)} ${f(s.p999 / e.p999)}`);
  }
}
// How far a lone operation is from the floor (issue 17's targets: write within 2.5x, read within 3x).
for (const s of shmemCells.filter((c) => c.inFlight === 1 && c.workload !== 'mixed')) {
  const f = s.workload === 'write' ? floor.writeMs : floor.readMs;
  console.log(`shmem ${s.workload} at 1 in flight: p50 ${s.p50.toFixed(2)} ms = ${(s.p50 / f).toFixed(1)}x its floor (${f.toFixed(3)} ms)`);
}
