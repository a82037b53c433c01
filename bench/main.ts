/**
 * npm run bench -- [--vs-etcd] [--seconds 5] [--addrs 1000] [--value-bytes 16] [--nodes 3|5]
 *                  [--durability full|normal] [--in-flight 1,16,64] [--workloads write,read,mixed]
 *
 * Starts a fresh shmem cluster on loopback (temporary data dirs), drives it with the closed-loop
 * generator in bench/load.ts, and prints ops/s and latency percentiles per workload and
 * concurrency; with --vs-etcd, the same against a 3-member etcd cluster and the ratios. With
 * --vs-etcd both clusters are up together and each cell runs on shmem then at once on etcd:
 * this shared 2-core VM drifts by a factor of 2 within minutes (steal time), and interleaving
 * keeps such drifts out of the ratios.
 */
import { limits } from '../src/core/limits.js';
import { Cluster } from '../test/helpers/cluster.js';
import { startEtcd } from './etcd.js';
import { percentile, runLoad, type RequestSpec, type Target } from './load.js';

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

type Cell = { workload: string; inFlight: number; opsPerSec: number; p50: number; p99: number; p999: number; errors: number };

function shmemRequest(workload: string, i: number): RequestSpec {
  const addr = (i * 7919) % addrs;
  const write = workload === 'write' || (workload === 'mixed' && i % 2 === 0);
  return write ? { method: 'POST', path: '/write', body: `{"addr":${addr},"value":"${value}"}` } : { method: 'GET', path: `/read/${addr}` };
}

function etcdRequest(workload: string, i: number): RequestSpec {
  const addr = (i * 7919) % addrs;
  const write = workload === 'write' || (workload === 'mixed' && i % 2 === 0);
  const key = b64(`k${addr}`);
  return write
    ? { method: 'POST', path: '/v3/kv/put', body: `{"key":"${key}","value":"${etcdValue}"}` }
    : { method: 'POST', path: '/v3/kv/range', body: `{"key":"${key}"}` };
}

/** Writes every address once so reads find values. */
async function preload(targets: Target[], make: (w: string, i: number) => RequestSpec): Promise<void> {
  await runLoad(targets, 16, Math.max(1, Math.min(10, addrs / 2000)), (i) => make('write', i));
}

async function cell(name: string, targets: Target[], make: (w: string, i: number) => RequestSpec, workload: string, inFlight: number): Promise<Cell> {
  const r = await runLoad(targets, inFlight, seconds, (i) => make(workload, i));
  const c = {
    workload, inFlight, opsPerSec: r.ops / r.seconds, errors: r.errors,
    p50: percentile(r.latenciesMs, 50), p99: percentile(r.latenciesMs, 99), p999: percentile(r.latenciesMs, 99.9),
  };
  console.log(`${name.padEnd(6)} ${workload.padEnd(6)} ${String(inFlight).padStart(3)} in flight  ${c.opsPerSec.toFixed(0).padStart(7)} ops/s  p50 ${c.p50.toFixed(2)}ms  p99 ${c.p99.toFixed(2)}ms  p99.9 ${c.p999.toFixed(2)}ms${c.errors ? `  ${c.errors} errors` : ''}`);
  return c;
}

console.log(`shmem bench: ${nodes} nodes, durability ${durability}, ${addrs} addresses, ${valueBytes}-byte values, ${seconds}s per cell, closed loop over keep-alive connections`);
// Nodes run with the default heartbeat, as operators run them.
const cluster = await Cluster.start(nodes, ['--durability', durability, '--log-level', 'warn', '--heartbeat-ms', String(limits.heartbeatIntervalMsDefault)]);
const etcd = vsEtcd ? await startEtcd(3).catch(async (err: unknown) => {
  await cluster.destroy();
  throw err;
}) : undefined;
const shmemCells: Cell[] = [];
const etcdCells: Cell[] = [];
try {
  const shmemTargets = cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  if (etcd) console.log(`etcd: ${etcd.version}; ${etcd.flags}`);
  if (etcd) console.log('Both clusters run side by side; each cell runs on shmem, then at once on etcd, so drifts in machine speed hit both alike.');
  await preload(shmemTargets, shmemRequest);
  if (etcd) await preload(etcd.targets, etcdRequest);
  for (const workload of workloads) {
    for (const inFlight of inFlights) {
      shmemCells.push(await cell('shmem', shmemTargets, shmemRequest, workload, inFlight));
      if (etcd) etcdCells.push(await cell('etcd', etcd.targets, etcdRequest, workload, inFlight));
    }
  }
} finally {
  await cluster.destroy();
  await etcd?.stop();
}
if (etcd) {
  console.log('\nshmem / etcd            ops/s     p50      p99    p99.9   (ops/s above 1 and latencies below 1 favour shmem)');
  for (const s of shmemCells) {
    const e = etcdCells.find((c) => c.workload === s.workload && c.inFlight === s.inFlight)!;
    const f = (x: number): string => x.toFixed(2).padStart(8);
    console.log(`${s.workload.padEnd(6)} ${String(s.inFlight).padStart(3)} in flight ${f(s.opsPerSec / e.opsPerSec)} ${f(s.p50 / e.p50)} ${f(s.p99 / e.p99)} ${f(s.p999 / e.p999)}`);
  }
}
