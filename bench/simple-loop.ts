/**
 * Orientation benchmark (not a test): starts a 3-node cluster on loopback with fresh data
 * dirs and default durability, then runs sequential and concurrent writes and reads through
 * the CLI's client library (ShmemClient), printing ops/s and latency percentiles.
 *   npm run bench -- [--seconds N] [--concurrency N]
 */
import { ShmemClient } from '../src/client/shmem-client.js';
import { Cluster } from '../test/helpers/cluster.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const seconds = arg('seconds', 3);
const concurrency = arg('concurrency', 16);
const addresses = 1000;

function pct(sorted: number[], p: number): string {
  return sorted.length === 0 ? '-' : `${sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2)}ms`;
}

async function run(label: string, clients: ShmemClient[], op: (c: ShmemClient, i: number) => Promise<unknown>): Promise<void> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(clients.map(async (c) => {
    while (performance.now() < end) {
      const i = n++;
      const t = performance.now();
      await op(c, i);
      latencies.push(performance.now() - t);
    }
  }));
  latencies.sort((a, b) => a - b);
  const rate = (latencies.length / seconds).toFixed(0);
  console.log(`${label.padEnd(28)} ${rate.padStart(7)} ops/s   p50 ${pct(latencies, 50)}   p99 ${pct(latencies, 99)}`);
}

const cluster = await Cluster.start(3);
try {
  const endpoints = cluster.nodes.map((n) => n.url);
  // Each client talks to one node; clients are spread over all nodes.
  const make = (k: number) => Array.from({ length: k }, (_, i) => new ShmemClient({ endpoints: [endpoints[i % 3]!], timeoutMs: 10_000 }));
  console.log(`shmem ${seconds}s per row, 3 nodes on loopback, ${addresses} addresses, 16-byte values, durability full`);
  for (const k of [1, concurrency]) {
    const clients = make(k);
    await run(`write, ${k} in flight`, clients, (c, i) => c.write(i % addresses, `v${String(i).padStart(15, '0')}`));
    await run(`read, ${k} in flight`, clients, (c, i) => c.read(i % addresses));
    for (const c of clients) c.close();
  }
} finally {
  await cluster.destroy();
}
