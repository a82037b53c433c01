/**
 * npm run bench -- --soak MINUTES [--soak-out DIR]
 *
 * Memory of a node that runs for a long time (issue 30, item 5): a 3-node cluster under a mixed
 * load (50/50 reads and writes) at 16 in flight, without a pause, and every 10 s a sample of
 * each node: RSS and its parts (anonymous, file-backed, shared: /proc/PID/status), the JS heap
 * (used, reserved, its physical pages, old space used), native memory (anonymous RSS minus the
 * heap's pages: SQLite, malloc, libuv, stacks), memory V8 tracks outside the heap (external, of
 * it array buffers), open descriptors, threads, the size of /metrics. The table goes to the
 * console and, with a plot, to DIR (soak.tsv, soak.svg). The verdict at the end is the issue's
 * target: every node's RSS within
 * ±5% of its mean over the last two thirds of the run (the last 40 minutes of an hour).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad, type RequestSpec, type Target } from './load.js';

export interface SoakNode {
  readonly pid: number;
  readonly target: Target;
  readonly metrics: () => Promise<string>;
}

/** One sample of one node; sizes in MiB. */
interface Sample {
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly shmem: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Touched pages of the V8 heap; anon minus this is native memory (SQLite, malloc, libuv, stacks). */
  readonly heapPhysical: number;
  readonly native: number;
  /** Old space used: objects that survived; a leak in JS shows here. */
  readonly oldUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly fds: number;
  readonly threads: number;
  /** Size of the /metrics answer (KiB): label sets that grow without bound would show here. */
  readonly metricsKiB: number;
}

const SAMPLE_EVERY_S = 10;
const MiB = 1024 * 1024;

/** RSS and its parts, and threads, from /proc/PID/status (kB there). */
function procStatus(pid: number): Pick<Sample, 'rss' | 'anon' | 'file' | 'shmem' | 'threads'> {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem'), threads: kb('Threads') * 1024 };
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} ([0-9.e+]+)`, 'm').exec(text);
  return m ? Number(m[1]) / MiB : NaN;
}

async function sample(node: SoakNode): Promise<Sample> {
  const text = await node.metrics();
  const proc = procStatus(node.pid);
  const heapPhysical = metric(text, 'shmem_nodejs_heap_physical_bytes');
  return {
    ...proc,
    heapUsed: metric(text, 'shmem_nodejs_heap_size_used_bytes'),
    heapTotal: metric(text, 'shmem_nodejs_heap_size_total_bytes'),
    heapPhysical,
    native: proc.anon - heapPhysical,
    oldUsed: metric(text, 'shmem_nodejs_heap_space_size_used_bytes{space="old"}'),
    metricsKiB: text.length / 1024,
    external: metric(text, 'shmem_nodejs_external_memory_bytes'),
    arrayBuffers: metric(text, 'shmem_nodejs_array_buffers_bytes'),
    fds: readdirSync(`/proc/${node.pid}/fd`).length,
  };
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '?');

/** Runs the soak; returns whether every node's RSS stayed within ±5% over the last two thirds. */
export async function soak(nodes: readonly SoakNode[], minutes: number, request: (i: number) => RequestSpec, outDir: string, inFlight = 16): Promise<boolean> {
  const rows: { t: number; opsPerSec: number; samples: Sample[] }[] = [];
  console.log(`soak: 50/50 reads and writes at ${inFlight} in flight for ${minutes} min; every ${SAMPLE_EVERY_S} s per node (MiB):`);
  console.log('  RSS = anon + file + shared; heap used/reserved/physical (old space used); native = anon - heap physical;');
  console.log('  external (of it array buffers); open fds; threads; /metrics KiB');
  let done = false;
  let ops = 0;
  let opsAt = 0;
  // One load for the whole run (its connections live as long as a real client's), counted as it goes.
  const load = runLoad(nodes.map((n) => n.target), inFlight, minutes * 60, (i) => {
    ops = i;
    return request(i);
  }).finally(() => (done = true));
  const started = performance.now();
  for (let k = 0; ; k++) {
    const dueMs = k * SAMPLE_EVERY_S * 1000;
    while (!done && performance.now() - started < dueMs) await new Promise((r) => setTimeout(r, 200));
    if (done && k > 0) break;
    const t = (performance.now() - started) / 60_000;
    const samples = await Promise.all(nodes.map(sample));
    const opsPerSec = k === 0 ? 0 : (ops - opsAt) / SAMPLE_EVERY_S;
    opsAt = ops;
    rows.push({ t, opsPerSec, samples });
    console.log(`${t.toFixed(2).padStart(6)} min ${String(Math.round(opsPerSec)).padStart(5)} ops/s  ` + samples.map((s) =>
      `${f1(s.rss)}=${f1(s.anon)}+${f1(s.file)}+${f1(s.shmem)} h ${f1(s.heapUsed)}/${f1(s.heapTotal)}/${f1(s.heapPhysical)}(${f1(s.oldUsed)}) n ${f1(s.native)} x ${f1(s.external)}(${f1(s.arrayBuffers)}) fd ${s.fds} th ${s.threads} m ${f1(s.metricsKiB)}`).join(' | '));
  }
  const result = await load;
  console.log(`load: ${result.ops} operations, ${result.errors} errors, ${(result.ops / result.seconds).toFixed(0)} ops/s`);

  mkdirSync(outDir, { recursive: true });
  const fields = ['rss', 'anon', 'file', 'shmem', 'heapUsed', 'heapTotal', 'heapPhysical', 'native', 'oldUsed', 'external', 'arrayBuffers', 'fds', 'threads', 'metricsKiB'] as const;
  const header = ['minutes', 'opsPerSec', ...nodes.flatMap((_, i) => fields.map((f) => `n${i}.${f}`))].join('\t');
  const lines = rows.map((r) => [r.t.toFixed(3), r.opsPerSec.toFixed(0), ...r.samples.flatMap((s) => fields.map((f) => String(s[f])))].join('\t'));
  writeFileSync(join(outDir, 'soak.tsv'), `${header}\n${lines.join('\n')}\n`);
  writeFileSync(join(outDir, 'soak.svg'), plot(rows.map((r) => ({ t: r.t, rss: r.samples.map((s) => s.rss), heap: r.samples.map((s) => s.heapPhysical), native: r.samples.map((s) => s.native) })), minutes));

  // The target: over the last two thirds, every node's RSS within ±5% of its mean there.
  const tail = rows.filter((r) => r.t >= minutes / 3);
  let ok = tail.length > 1;
  const verdicts = nodes.map((_, i) => {
    const rss = tail.map((r) => r.samples[i]!.rss);
    const mean = rss.reduce((a, b) => a + b, 0) / rss.length;
    const lo = Math.min(...rss);
    const hi = Math.max(...rss);
    const spread = Math.max(hi - mean, mean - lo) / mean * 100;
    const first = rss[0]!;
    const last = rss.at(-1)!;
    if (!(spread <= 5)) ok = false;
    return `node ${i}: ${f1(first)} -> ${f1(last)} MiB, min ${f1(lo)} max ${f1(hi)}, mean ${f1(mean)} ±${spread.toFixed(1)}%`;
  });
  console.log(`RSS over the last ${(minutes * 2 / 3).toFixed(0)} min (target: within ±5% of the mean): ${ok ? 'met' : 'NOT met'}`);
  for (const v of verdicts) console.log(`  ${v}`);
  console.log(`table and plot: ${join(outDir, 'soak.tsv')}, ${join(outDir, 'soak.svg')}`);
  return ok;
}

/** A small SVG line chart of each node over time: RSS (solid), V8 heap's physical pages (dashed), native memory (dotted). */
export function plot(points: readonly { t: number; rss: readonly number[]; heap: readonly number[]; native: readonly number[] }[], minutes: number, caption = 'RSS solid, V8 heap pages dashed, native dotted'): string {
  const w = 760;
  const h = 360;
  const left = 56;
  const bottom = 36;
  const top = 24;
  const right = 16;
  const maxY = Math.ceil(Math.max(1, ...points.flatMap((p) => [...p.rss, ...p.heap, ...p.native].filter(Number.isFinite))) / 50) * 50;
  const x = (t: number): number => left + (t / minutes) * (w - left - right);
  const y = (v: number): number => h - bottom - (v / maxY) * (h - top - bottom);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const nodes = points[0]?.rss.length ?? 0;
  const line = (i: number, key: 'rss' | 'heap' | 'native', dash: string): string =>
    `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="1.5"${dash} points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p[key][i]!).toFixed(1)}`).join(' ')}"/>`;
  const grid: string[] = [];
  for (let v = 0; v <= maxY; v += maxY / 5) grid.push(`<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(0)}</text>`);
  const step = minutes <= 15 ? 1 : minutes <= 60 ? 10 : 30;
  for (let t = 0; t <= minutes; t += step) grid.push(`<text x="${x(t)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  const legend = Array.from({ length: nodes }, (_, i) => `<text x="${left + 10 + i * 90}" y="${top - 8}" font-size="11" fill="${colors[i % colors.length]}">node ${i}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="${w}" height="${h}" fill="white"/>
${grid.join('\n')}
<text x="${(left + w - right) / 2}" y="${h - 4}" text-anchor="middle" font-size="12">minutes (${caption}; MiB)</text>
${legend}
${Array.from({ length: nodes }, (_, i) => line(i, 'rss', '') + line(i, 'heap', ' stroke-dasharray="6 3"') + line(i, 'native', ' stroke-dasharray="1 3"')).join('\n')}
</svg>
`;
}
