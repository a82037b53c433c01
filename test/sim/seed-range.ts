import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { defaultSimOptions, simulate, type Fault, type FaultKind, type SimMutations } from './simulator.js';
import { RECONFIGURE } from './mutations.js';

/**
 * Runs a range of simulation seeds for the suite, spread over worker threads (one per core, at
 * most two: the suite's machine has two), each taking every W-th seed. Seeds are independent and
 * each replays exactly, so splitting them changes nothing but the wall time; the suite's
 * simulation part took 96 s on one core.
 */

export interface SeedRange {
  readonly from: number;
  readonly count: number;
  readonly nodes: number;
  readonly mutations: SimMutations;
  readonly faults: readonly FaultKind[];
  readonly reconfigure: boolean;
  /**
   * Pass over a seed that fails only liveness or convergence: the simulation with member
   * changes has rare liveness failures of its own (docs/membership.md), which would let a
   * mutation look caught.
   */
  readonly safetyOnly: boolean;
}

export interface Totals { ops: number; ok: number; wipes: number; events: number; kinds: Map<Fault['kind'], number>; queues: number; changesDone: number }

export interface RangeResult {
  /** The lowest failing seed found (workers stop once one has failed), or undefined. */
  readonly failed: number | undefined;
  readonly why: string;
  readonly totals: Totals;
}

interface WorkerJob { readonly range: SeedRange; readonly offset: number; readonly stride: number; readonly stop: SharedArrayBuffer }
interface WorkerAnswer { readonly failed: number | undefined; readonly why: string; readonly totals: Omit<Totals, 'kinds'> & { kinds: [Fault['kind'], number][] } }

export async function runSeeds(range: SeedRange): Promise<RangeResult> {
  const workers = Math.max(1, Math.min(2, availableParallelism(), range.count));
  const stop = new SharedArrayBuffer(4);
  const answers = await Promise.all(Array.from({ length: workers }, (_, offset) => new Promise<WorkerAnswer>((resolve, reject) => {
    const job: WorkerJob = { range, offset, stride: workers, stop };
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`simulation worker exited (${code}) without an answer`)));
  })));
  const totals: Totals = { ops: 0, ok: 0, wipes: 0, events: 0, kinds: new Map(), queues: 0, changesDone: 0 };
  for (const a of answers) add(totals, a.totals, a.totals.kinds);
  const failed = answers.filter((a) => a.failed !== undefined).sort((x, y) => x.failed! - y.failed!)[0];
  return { failed: failed?.failed, why: failed?.why ?? '', totals };
}

/** Adds one seed's (or one worker's) figures to `totals`. */
function add(totals: Totals, t: Omit<Totals, 'kinds'>, kinds: Iterable<readonly [Fault['kind'], number]>): void {
  totals.ops += t.ops;
  totals.ok += t.ok;
  totals.wipes += t.wipes;
  totals.events += t.events;
  totals.changesDone += t.changesDone;
  totals.queues = Math.max(totals.queues, t.queues);
  for (const [k, n] of kinds) totals.kinds.set(k, (totals.kinds.get(k) ?? 0) + n);
}

async function runShare(job: WorkerJob): Promise<WorkerAnswer> {
  const { range, offset, stride } = job;
  const stop = new Int32Array(job.stop);
  const totals = { ops: 0, ok: 0, wipes: 0, events: 0, kinds: new Map<Fault['kind'], number>(), queues: 0, changesDone: 0 };
  const answer = (failed: number | undefined, why: string): WorkerAnswer => ({ failed, why, totals: { ...totals, kinds: [...totals.kinds] } });
  const mutated = Object.keys(range.mutations).length > 0;
  for (let seed = range.from + offset; seed < range.from + range.count; seed += stride) {
    if (Atomics.load(stop, 0) !== 0) break; // another worker found a failing seed
    const r = await simulate(defaultSimOptions(seed, { nodes: range.nodes, mutations: range.mutations, faults: [...range.faults], ...(range.reconfigure ? RECONFIGURE : {}) }));
    add(totals, { ...r.counts, queues: r.counts.maxLinkCalls }, r.faults.map((f) => [f.kind, 1]));
    let why: string | undefined;
    // A broken node may leave a history too tangled to check in time: that seed proves nothing either way.
    if (!mutated && r.verdict.result === 'unknown') why = `the history could not be checked in time`;
    else if (r.verdict.result === 'invalid') why = r.verdict.explanation;
    else {
      const problems = range.safetyOnly ? r.problems.filter((p) => !p.startsWith('liveness:') && !p.startsWith('convergence:')) : r.problems;
      if (problems.length > 0) why = problems.slice(0, 3).join('; ');
    }
    if (why !== undefined) {
      Atomics.store(stop, 0, 1);
      return answer(seed, why);
    }
  }
  return answer(undefined, '');
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.range !== undefined) {
  parentPort!.postMessage(await runShare(workerData as WorkerJob));
}
