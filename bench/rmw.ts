import { Agent, request } from 'node:http';
import { percentile, type Target } from './load.js';

/**
 * `npm run bench -- --rmw [--vs-etcd]`: increments, the operation a counter or a lock is made of,
 * at 1/16/64 in flight, on one contended address and over 1,000 addresses. shmem: one
 * `POST /add` per increment (an answer of unknown outcome, 504, is counted apart: it may have
 * counted). etcd, the way its clients do it (clientv3's STM, concurrency.NewSTM): read the key
 * and its mod_revision, then a transaction that puts value+1 only if mod_revision is unchanged,
 * again from the read while another client got there first. Counted per completed increment.
 */

export interface RmwCell {
  readonly system: 'shmem' | 'etcd';
  readonly shape: 'contended' | 'spread';
  readonly inFlight: number;
  readonly incPerSec: number;
  readonly p50: number;
  readonly p99: number;
  /** shmem: increments answered outcome_unknown; etcd: transactions that lost the race and went again. */
  readonly unknownOrRetried: number;
  readonly errors: number;
}

type Increment = (agent: Agent, target: Target, addr: number) => Promise<'ok' | 'unknown' | 'error' | { retries: number }>;

function post(agent: Agent, target: Target, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request({
      host: target.host, port: target.port, method: 'POST', path, agent,
      headers: { ...target.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', () => resolve({ status: 0, body: undefined }));
    });
    req.on('error', () => resolve({ status: 0, body: undefined }));
    req.setTimeout(10_000, () => req.destroy());
    req.end(text);
  });
}

export const shmemIncrement: Increment = async (agent, target, addr) => {
  const r = await post(agent, target, '/add', { addr, delta: 1 });
  return r.status === 200 ? 'ok' : r.status === 504 ? 'unknown' : 'error';
};

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export const etcdIncrement: Increment = async (agent, target, addr) => {
  const key = b64(`counter-${addr}`);
  for (let retries = 0; retries < 1000; retries++) {
    const read = await post(agent, target, '/v3/kv/range', { key });
    if (read.status !== 200) return 'error';
    const kv = (read.body as { kvs?: { value?: string; mod_revision?: string }[] }).kvs?.[0];
    const current = kv?.value === undefined ? 0 : Number(Buffer.from(kv.value, 'base64').toString());
    const txn = await post(agent, target, '/v3/kv/txn', {
      compare: [{ target: 'MOD', key, mod_revision: kv?.mod_revision ?? '0', result: 'EQUAL' }],
      success: [{ request_put: { key, value: b64(String(current + 1)) } }],
    });
    if (txn.status !== 200) return 'error';
    if ((txn.body as { succeeded?: boolean }).succeeded === true) return retries === 0 ? 'ok' : { retries };
  }
  return 'error';
};

/** A closed loop of `inFlight` workers, each incrementing one address at a time for `seconds`. */
export async function runIncrements(
  system: 'shmem' | 'etcd', targets: readonly Target[], shape: 'contended' | 'spread', inFlight: number, seconds: number, addrs: number,
): Promise<RmwCell> {
  const increment = system === 'shmem' ? shmemIncrement : etcdIncrement;
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  let unknownOrRetried = 0;
  let errors = 0;
  let counter = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, async (_, w) => {
    for (let k = 0; performance.now() < end; k++) {
      const i = counter++;
      const addr = shape === 'contended' ? 0 : 1 + ((i * 7919) % addrs);
      const t0 = performance.now();
      const r = await increment(agent, targets[(w + k) % targets.length]!, addr);
      if (r === 'error') errors += 1;
      else if (r === 'unknown') unknownOrRetried += 1;
      else {
        latencies.push(performance.now() - t0);
        if (r !== 'ok') unknownOrRetried += r.retries;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return { system, shape, inFlight, incPerSec: latencies.length / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), unknownOrRetried, errors };
}

export function printRmwCells(cells: readonly RmwCell[]): void {
  console.log('\nincrements    system  in flight   inc/s      p50 ms   p99 ms   unknown (shmem) / lost races (etcd)   errors');
  for (const c of cells) {
    console.log(`${c.shape.padEnd(12)}  ${c.system.padEnd(6)} ${String(c.inFlight).padStart(9)} ${c.incPerSec.toFixed(0).padStart(8)} ${c.p50.toFixed(2).padStart(11)} ${c.p99.toFixed(2).padStart(8)} ${String(c.unknownOrRetried).padStart(10)} ${String(c.errors).padStart(30)}`);
  }
  const shmem = cells.filter((c) => c.system === 'shmem');
  if (!cells.some((c) => c.system === 'etcd')) return;
  console.log('\nshmem / etcd increments   inc/s      p50      p99   (inc/s above 1 and latencies below 1 favour shmem)');
  for (const s of shmem) {
    const e = cells.find((c) => c.system === 'etcd' && c.shape === s.shape && c.inFlight === s.inFlight)!;
    const f = (x: number): string => x.toFixed(2).padStart(8);
    console.log(`${s.shape.padEnd(10)} ${String(s.inFlight).padStart(3)} in flight ${f(s.incPerSec / e.incPerSec)} ${f(s.p50 / e.p50)} ${f(s.p99 / e.p99)}`);
  }
}
