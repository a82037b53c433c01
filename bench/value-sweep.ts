/**
 * Value sizes (issue 17, step 4), run by `npm run bench -- --value-sweep [--vs-etcd]`: for 16 B,
 * 1 KiB, 64 KiB and 1 MiB values, writes and reads at 1 and 16 in flight, MB/s and p99, each
 * cell on shmem then at once on etcd; then a mixed cell where 1% of the writes carry 1 MiB
 * and the rest 16 B, with the p99 of the small operations alone: a big value must not cost the
 * small ones their latency. Big sizes use fewer addresses (64 MiB of values at most).
 */
import { percentile, runLoad, type RequestSpec, type Target } from './load.js';

export const SWEEP_BYTES = [16, 1024, 64 * 1024, 1024 * 1024] as const;
const SWEEP_IN_FLIGHT = [1, 16] as const;
const STORED_BYTES_MAX = 64 * 1024 * 1024;
const STRIDE = 7919;

type Make = (kind: 'write' | 'read', addr: number, value: string) => RequestSpec;

export const shmemMake: Make = (kind, addr, value) => kind === 'write'
  ? { method: 'POST', path: '/write', body: `{"addr":${addr},"value":"${value}"}` }
  : { method: 'GET', path: `/read/${addr}` };

/** The last value etcdMake encoded, and its base64: the cells send one value over and over. */
let encoded = { value: '', base64: '' };

export const etcdMake: Make = (kind, addr, value) => {
  const key = Buffer.from(`k${addr}`).toString('base64');
  if (kind === 'write' && encoded.value !== value) encoded = { value, base64: Buffer.from(value).toString('base64') };
  return kind === 'write'
    ? { method: 'POST', path: '/v3/kv/put', body: `{"key":"${key}","value":"${encoded.base64}"}` }
    : { method: 'POST', path: '/v3/kv/range', body: `{"key":"${key}"}` };
};

interface System { readonly name: string; readonly targets: Target[]; readonly make: Make }

export async function valueSweep(systems: readonly System[], seconds: number): Promise<void> {
  console.log(`value sizes: ${SWEEP_BYTES.map(label).join(', ')}; writes and reads at ${SWEEP_IN_FLIGHT.join(' and ')} in flight, ${seconds} s per cell`);
  const ratios: string[] = [];
  for (const bytes of SWEEP_BYTES) {
    const addrs = Math.max(16, Math.min(1000, Math.floor(STORED_BYTES_MAX / bytes)));
    const value = 'v'.repeat(bytes);
    for (const s of systems) {
      const r = await runLoad(s.targets, 16, 24 * 3600, (i) => s.make('write', i % addrs, value), addrs);
      if (r.ops < addrs) throw new Error(`${s.name}: preload of ${label(bytes)} values wrote ${r.ops} of ${addrs} (${r.errors} errors)`);
    }
    for (const kind of ['write', 'read'] as const) {
      for (const inFlight of SWEEP_IN_FLIGHT) {
        const row: { mbps: number; p99: number }[] = [];
        for (const s of systems) {
          const r = await runLoad(s.targets, inFlight, seconds, (i) => s.make(kind, (i * STRIDE) % addrs, value));
          const mbps = (r.ops * bytes) / r.seconds / 1e6;
          const p99 = percentile(r.latenciesMs, 99);
          row.push({ mbps, p99 });
          console.log(`${s.name.padEnd(6)} ${kind.padEnd(5)} ${label(bytes).padStart(7)} ${String(inFlight).padStart(3)} in flight  ${(r.ops / r.seconds).toFixed(0).padStart(6)} ops/s  ${mbps.toFixed(2).padStart(8)} MB/s  p99 ${p99.toFixed(2)} ms${r.errors ? `  ${r.errors} errors` : ''}`);
        }
        if (row.length === 2) ratios.push(`${kind.padEnd(5)} ${label(bytes).padStart(7)} ${String(inFlight).padStart(3)} in flight   MB/s ${(row[0]!.mbps / row[1]!.mbps).toFixed(2).padStart(6)}   p99 ${(row[0]!.p99 / row[1]!.p99).toFixed(2).padStart(6)}`);
      }
    }
  }
  // 1% of the writes carry 1 MiB, on their own 16 addresses; every other operation is a 16 B read or write.
  const big = 'b'.repeat(1024 * 1024);
  const small = 'v'.repeat(16);
  const isBig = (i: number): boolean => i % 100 === 0;
  for (const s of systems) {
    const make = (i: number): RequestSpec => isBig(i) ? s.make('write', 100_000 + (i / 100) % 16, big) : s.make(i % 2 === 0 ? 'write' : 'read', (i * STRIDE) % 1000, small);
    const [alone, mixed] = [
      await runLoad(s.targets, 16, seconds, (i) => s.make(i % 2 === 0 ? 'write' : 'read', (i * STRIDE) % 1000, small)),
      await runLoad(s.targets, 16, seconds, make, Infinity, (i) => (isBig(i) ? 'big' : 'small')),
    ];
    const smallP99 = percentile(mixed.byClass?.get('small') ?? new Float64Array(), 99);
    console.log(`${s.name.padEnd(6)} mixed sizes at 16 in flight (1% of writes 1 MiB): p99 of the 16 B operations ${smallP99.toFixed(2)} ms, ` +
      `against ${percentile(alone.latenciesMs, 99).toFixed(2)} ms with no big value; p99 of the 1 MiB writes ${percentile(mixed.byClass?.get('big') ?? new Float64Array(), 99).toFixed(2)} ms`);
  }
  if (ratios.length > 0) {
    console.log('\nshmem / etcd by value size (MB/s above 1 and p99 below 1 favour shmem)');
    for (const r of ratios) console.log(r);
  }
}

function label(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}
