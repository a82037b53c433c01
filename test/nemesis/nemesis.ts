import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from '../../src/check/history.js';
import { checkHistory, type Verdict } from '../../src/check/linearizability.js';
import { isDefiniteFailure } from '../../src/errors.js';
import { Cluster, freePorts, http, NodeProcess } from '../helpers/cluster.js';
import { TestPki } from '../helpers/certs.js';
import { Random } from '../sim/random.js';

/**
 * Live fault injection against real shmem processes (a small Jepsen): concurrent clients do
 * random reads, writes and compare-and-sets of unique values (even addresses) and reads and adds
 * (odd addresses: counters) through random nodes, and every 8 s 16 clients race to take a lock
 * (compare-and-set from never-written) on a fresh address, while the nemesis SIGKILLs
 * and restarts nodes, SIGSTOPs and resumes them, and restarts a node on a wiped data dir.
 * By default never more than a minority is faulty at once; `majority` mode also takes a
 * majority down to show the cluster refuses rather than lies. The history is checked for
 * linearizability at the end, each counter's final value against the acknowledged adds (plus
 * some of the unknown ones), and each lock for one winner whose value every loser was told.
 */
export interface NemesisOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly addrs: number;
  readonly majority: boolean;
  readonly seed: number;
  readonly historyFile?: string;
  readonly log?: (line: string) => void;
  /** Run the cluster with mutual TLS (certificates made for the run) and a cluster secret; clients use https. */
  readonly tls?: boolean;
  /** Also change the member set: add, remove and replace members (wiped ones too) between 3 and 5, among the faults. */
  readonly membership?: boolean;
}

export interface NemesisReport {
  readonly verdict: Verdict;
  readonly counts: {
    ops: number; ok: number; failed: number; unknown: number; kills: number; stops: number; wipes: number; majorityOutages: number;
    adds: number; removes: number; replaces: number; changesFailed: number;
  };
  /** Operations invoked and completed while a majority was down: refused ones, and any that succeeded (must be 0). */
  readonly duringOutages: { refused: number; succeeded: number };
  /** Catch-up after the faults: how long until every member held the same tags. */
  readonly convergence: Convergence;
  /** Each counter: its final value, the adds acknowledged and unknown; `problem` when the final value is not explained by them. */
  readonly counters: readonly CounterCheck[];
  /** Each lock race: the final holder, how many won (ok), lost (told a holder) and ended unknown or failed; `problem` when it is wrong. */
  readonly locks: readonly LockCheck[];
  readonly history: HistoryEvent[];
  readonly logs: string;
}

const OP_DEADLINE_MS = 1000;

export interface CounterCheck { readonly addr: number; readonly final: number | null; readonly acked: number; readonly unknown: number; readonly problem?: string }
export interface LockCheck { readonly addr: number; readonly holder: string | null; readonly won: number; readonly lost: number; readonly undecided: number; readonly problem?: string }

/**
 * Counters move to fresh addresses this often (from COUNTER_BASE on): the checker's search over
 * one address grows with its adds of unknown outcome, and a 300-second run put 8,877 operations
 * on one counter, past its time budget.
 */
const COUNTER_EPOCH_MS = 20_000;
const COUNTER_BASE = 100_000;

/** Lock races run every this often, 16 clients each, on addresses after the clients' ones. */
const LOCK_EVERY_MS = 8_000;
const LOCK_CLIENTS = 16;

export async function runNemesis(o: NemesisOptions): Promise<NemesisReport> {
  const log = o.log ?? (() => {});
  const rng = new Random(o.seed);
  const pki = o.tls ? TestPki.make() : undefined;
  let cluster: Cluster;
  try {
    cluster = pki === undefined
      ? await Cluster.start(3, ['--op-deadline-ms', String(OP_DEADLINE_MS)])
      : await Cluster.start(3, ['--op-deadline-ms', String(OP_DEADLINE_MS), ...pki.memberFlags(), '--cluster-secret-file', pki.secretFile()], { ca: pki.ca });
  } catch (err) {
    pki?.remove();
    throw err;
  }
  const history: HistoryEvent[] = [];
  const counts = { ops: 0, ok: 0, failed: 0, unknown: 0, kills: 0, stops: 0, wipes: 0, majorityOutages: 0, adds: 0, removes: 0, replaces: 0, changesFailed: 0 };
  const end = Date.now() + o.seconds * 1000;
  const outages: Outage[] = [];
  const record = (e: HistoryEvent): void => {
    history.push({ ...e, time: Date.now() });
  };
  // The members now (membership mode changes them); clients go through any running node.
  const members = new Set<NodeProcess>(cluster.nodes);
  const lockAddrs: number[] = [];
  const counterAddrs = new Set<number>();
  let convergence: Convergence = { ms: 0, differing: 'the run ended before all members were up' };
  try {
    const started = Date.now();
    const clients = Array.from({ length: o.clients }, (_, c) => clientLoop(c, cluster, rng, o.addrs, end, record, counts, (a) => {
      const at = COUNTER_BASE + Math.floor((Date.now() - started) / COUNTER_EPOCH_MS) * o.addrs + a;
      counterAddrs.add(at);
      return at;
    }));
    clients.push(lockLoop(cluster, rng, o.addrs, end, record, counts, lockAddrs));
    if (o.membership) await membershipLoop(cluster, members, rng, end, counts, log);
    else await nemesisLoop(cluster, rng, o, end, counts, outages, log, record);
    await Promise.all(clients);
    // Heal, then read every address through every member: the final state is in the history too.
    for (const n of members) {
      n.signal('SIGCONT');
      if (!n.running) startAmong(n, members);
    }
    await Promise.all([...members].map((n) => n.waitFor('/readyz', 30_000)));
    // Before any read (whose write-back would repair them): catch-up alone must bring every
    // member to the same tag at every address (docs/catch-up.md).
    convergence = await awaitConvergence([...members], CONVERGE_BOUND_MS);
    log(convergence.differing === undefined
      ? `converged: every member holds the same tags ${(convergence.ms / 1000).toFixed(1)} s after all were up`
      : `NOT converged within ${CONVERGE_BOUND_MS / 1000} s: ${convergence.differing}`);
    for (const addr of [...Array.from({ length: o.addrs }, (_, a) => a).filter((a) => a % 2 === 0), ...counterAddrs, ...lockAddrs]) {
      for (const n of members) await doOp(1000 + addr, n, { f: 'read', addr }, record, counts);
    }
  } catch (err) {
    // Name the seed: the run can be repeated with NEMESIS_SEED (or --seed).
    if (err instanceof Error) err.message = `seed ${o.seed}: ${err.message}`;
    throw err;
  } finally {
    for (const n of cluster.nodes) n.signal('SIGCONT');
    await cluster.destroy();
    pki?.remove();
  }
  if (o.historyFile) writeFileSync(o.historyFile, history.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return {
    verdict: checkHistory(history, { budgetMs: 60_000 }), counts, duringOutages: insideOutages(history, outages), convergence,
    counters: checkCounters(history, [...counterAddrs].sort((a, b) => a - b)), locks: checkLocks(history, lockAddrs), history, logs: cluster.logs(),
  };
}

/** Completed operations: each invoke with its completion (none: still open at the end). */
function pairs(history: readonly HistoryEvent[]): { inv: HistoryEvent; done: HistoryEvent | undefined }[] {
  const open = new Map<number | string, HistoryEvent>();
  const out: { inv: HistoryEvent; done: HistoryEvent | undefined }[] = [];
  for (const e of history) {
    if (e.type === 'invoke') open.set(e.process, e);
    else {
      out.push({ inv: open.get(e.process)!, done: e });
      open.delete(e.process);
    }
  }
  for (const inv of open.values()) out.push({ inv, done: undefined });
  return out;
}

/**
 * The counters (odd addresses; only adds of 1 change them): the final value, read through every
 * member after the faults, must be the acknowledged adds plus some of those of unknown outcome.
 */
function checkCounters(history: readonly HistoryEvent[], counterAddrs: readonly number[]): CounterCheck[] {
  const ops = pairs(history);
  const checks: CounterCheck[] = [];
  for (const addr of counterAddrs) {
    const adds = ops.filter((p) => p.inv.addr === addr && p.inv.f === 'add');
    const acked = adds.filter((p) => p.done?.type === 'ok' && p.done.refused !== true).length;
    const unknown = adds.filter((p) => p.done === undefined || p.done.type === 'info').length;
    const finals = ops.filter((p) => p.inv.addr === addr && p.inv.f === 'read' && Number(p.inv.process) >= 1000 && p.done?.type === 'ok').map((p) => p.done!.value ?? null);
    const final = finals.length === 0 ? null : Number(finals.at(-1) ?? 0);
    let problem: string | undefined;
    if (finals.length === 0) problem = 'no final read succeeded';
    else if (new Set(finals).size > 1) problem = `the members' final reads differ: ${[...new Set(finals)].join(', ')}`;
    else if (final! < acked || final! > acked + unknown) problem = `final value ${final} is not the ${acked} acknowledged adds plus some of the ${unknown} unknown ones`;
    checks.push({ addr, final, acked, unknown, ...(problem ? { problem } : {}) });
  }
  return checks;
}

/**
 * Each lock race: at most one compare-and-set from never-written succeeded, the final holder is
 * its value (or, when none was acknowledged, one whose outcome is unknown), and every loser was
 * told the final holder as the current value.
 */
function checkLocks(history: readonly HistoryEvent[], lockAddrs: readonly number[]): LockCheck[] {
  const ops = pairs(history);
  return lockAddrs.map((addr) => {
    const race = ops.filter((p) => p.inv.addr === addr && p.inv.f === 'cas');
    const won = race.filter((p) => p.done?.type === 'ok' && p.done.refused !== true);
    const lost = race.filter((p) => p.done?.type === 'ok' && p.done.refused === true);
    const undecided = race.filter((p) => p.done === undefined || p.done.type === 'info');
    const finals = ops.filter((p) => p.inv.addr === addr && p.inv.f === 'read' && p.done?.type === 'ok').map((p) => p.done!.value ?? null);
    const holder = finals.at(-1) ?? null;
    let problem: string | undefined;
    if (won.length > 1) problem = `${won.length} clients won the lock: ${won.map((p) => p.inv.value).join(', ')}`;
    else if (won.length === 1 && holder !== won[0]!.inv.value) problem = `the winner ${won[0]!.inv.value} does not hold it: ${holder}`;
    else if (won.length === 0 && holder !== null && !undecided.some((p) => p.inv.value === holder)) problem = `the holder ${holder} neither won nor has an unknown outcome`;
    else if (lost.some((p) => p.done!.current !== holder)) problem = `a loser was told ${lost.find((p) => p.done!.current !== holder)!.done!.current} while ${holder} holds it`;
    return { addr, holder, won: won.length, lost: lost.length, undecided: undecided.length, ...(problem ? { problem } : {}) };
  });
}

/** After the faults: every member must hold the same tags within this. */
const CONVERGE_BOUND_MS = 30_000;

/** How long the members took to hold the same tag at every address, or the first difference still there at the bound. */
export interface Convergence {
  readonly ms: number;
  readonly differing: string | undefined;
}

async function awaitConvergence(members: readonly NodeProcess[], boundMs: number): Promise<Convergence> {
  const started = Date.now();
  let differing: string | undefined;
  while (Date.now() - started <= boundMs) {
    const pages = await Promise.all(members.map(async (n) => {
      const r = await http(`${n.url}/tags?limit=1000`, undefined, n.clientTls).catch(() => undefined);
      return r?.status === 200 ? new Map((r.body.items as { addr: number; tag: { seq: number; writer: string } }[]).map((i) => [i.addr, `${i.tag.seq}@${i.tag.writer}`])) : undefined;
    }));
    differing = pages.some((p) => p === undefined) ? 'a member did not answer /tags' : undefined;
    if (differing === undefined) {
      const addrs = new Set(pages.flatMap((p) => [...p!.keys()]));
      for (const a of addrs) {
        const tags = pages.map((p) => p!.get(a) ?? '0@-');
        if (tags.some((t) => t !== tags[0])) {
          differing = `address ${a}: ${members.map((m, i) => `${m.port} ${tags[i]}`).join(', ')}`;
          break;
        }
      }
    }
    if (differing === undefined) return { ms: Date.now() - started, differing };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ms: Date.now() - started, differing };
}

/** A window during which only `survivor` was up (the others killed or stopped). */
interface Outage {
  readonly start: number;
  readonly end: number;
  readonly survivor: number;
}

/**
 * Operations through the surviving node that started and ended inside an outage window:
 * refused ones, and any that succeeded (which would mean answering without a majority).
 */
function insideOutages(history: readonly HistoryEvent[], outages: readonly Outage[]): { refused: number; succeeded: number } {
  const open = new Map<number | string, HistoryEvent>();
  const result = { refused: 0, succeeded: 0 };
  for (const e of history) {
    if (e.type === 'invoke') {
      open.set(e.process, e);
      continue;
    }
    const inv = open.get(e.process)!;
    open.delete(e.process);
    if (!outages.some((w) => inv.node === w.survivor && inv.time! > w.start && e.time! < w.end)) continue;
    if (e.type === 'ok') result.succeeded += 1;
    else result.refused += 1;
  }
  return result;
}

async function clientLoop(
  client: number, cluster: Cluster, rng: Random, addrs: number, end: number,
  record: (e: HistoryEvent) => void, counts: NemesisReport['counts'], counterAt: (addr: number) => number,
): Promise<void> {
  const seen = new Map<number, string | null>();
  for (let k = 0; Date.now() < end; k++) {
    const node = rng.pick(cluster.nodes);
    const drawn = rng.int(0, addrs - 1);
    const addr = drawn % 2 === 1 ? counterAt(drawn) : drawn;
    const r = rng.next();
    // Even addresses: registers (read, write, cas expecting what this client last saw); odd: counters (read, add 1).
    const op: Op = drawn % 2 === 1 ? (r < 0.35 ? { f: 'read', addr } : { f: 'add', addr, delta: 1 })
      : r < 0.4 ? { f: 'read', addr } : r < 0.75 ? { f: 'write', addr, value: `c${client}-${k}` }
        : { f: 'cas', addr, expect: seen.get(addr) ?? null, value: `c${client}-${k}` };
    const saw = await doOp(client, node, op, record, counts);
    if (saw !== undefined) seen.set(addr, saw);
  }
}

/** Every LOCK_EVERY_MS, 16 clients race to take a lock on a fresh address through random nodes. */
async function lockLoop(
  cluster: Cluster, rng: Random, addrs: number, end: number, record: (e: HistoryEvent) => void, counts: NemesisReport['counts'], lockAddrs: number[],
): Promise<void> {
  for (let round = 0; Date.now() < end - LOCK_EVERY_MS / 2; round++) {
    await sleep(Math.min(LOCK_EVERY_MS, Math.max(0, end - Date.now() - LOCK_EVERY_MS / 2)));
    if (Date.now() >= end - 1000) return;
    const addr = addrs + round;
    lockAddrs.push(addr);
    await Promise.all(Array.from({ length: LOCK_CLIENTS }, (_, i) =>
      doOp(2000 + round * LOCK_CLIENTS + i, rng.pick(cluster.nodes), { f: 'cas', addr, expect: null, value: `holder-${round}-${i}` }, record, counts)));
  }
}

type Op =
  | { readonly f: 'read'; readonly addr: number }
  | { readonly f: 'write'; readonly addr: number; readonly value: string }
  | { readonly f: 'cas'; readonly addr: number; readonly expect: string | null; readonly value: string }
  | { readonly f: 'add'; readonly addr: number; readonly delta: number };

/** Runs one operation and records it; returns the value it saw the address hold, when it saw one. */
async function doOp(
  process: number, node: NodeProcess, op: Op, record: (e: HistoryEvent) => void, counts: NemesisReport['counts'],
): Promise<string | null | undefined> {
  const { f, addr } = op;
  counts.ops += 1;
  record({ type: 'invoke', process, f, addr, ...('value' in op ? { value: op.value } : {}), ...(op.f === 'cas' ? { expect: op.expect } : {}), ...(op.f === 'add' ? { delta: op.delta } : {}), node: node.port });
  const outcome = (type: 'ok' | 'fail' | 'info', extra: Partial<HistoryEvent> = {}): void => {
    if (type === 'ok') counts.ok += 1;
    else if (type === 'fail') counts.failed += 1;
    else counts.unknown += 1;
    record({ type, process, f, addr, ...extra });
  };
  const post = (path: string, body: unknown, signal: AbortSignal) =>
    http(`${node.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal }, node.clientTls);
  try {
    const signal = AbortSignal.timeout(OP_DEADLINE_MS * 3);
    const res = op.f === 'write' ? await post('/write', { addr, value: op.value }, signal)
      : op.f === 'cas' ? await post('/cas', { addr, expect: op.expect, value: op.value }, signal)
        : op.f === 'add' ? await post('/add', { addr, delta: op.delta }, signal)
          : await http(`${node.url}/read/${addr}`, { signal }, node.clientTls);
    const body = res.body as { value?: string | null; error?: { code: string }; current?: { value: string | null } };
    if (res.status === 200) {
      if (op.f === 'read' || op.f === 'add') {
        outcome('ok', { value: body.value ?? null });
        return body.value ?? null;
      }
      outcome('ok');
      return op.value;
    }
    // A refused cas or add read the register: the checker holds `current` to linearizability.
    if (res.status === 409 && body.current !== undefined) {
      outcome('ok', { refused: true, current: body.current.value });
      return body.current.value;
    }
    // A write or rmw that failed after its update or accept went out (outcome_unknown, or anything not known
    // to be definite) may still take effect: unknown. A definite failure did not happen, and the
    // checker holds the node to it. A failed read did nothing.
    outcome(f !== 'read' && !isDefiniteFailure(body.error?.code) ? 'info' : 'fail');
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    const refused = (e.cause?.code ?? e.code) === 'ECONNREFUSED';
    outcome(f !== 'read' && !refused ? 'info' : 'fail');
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function nemesisLoop(
  cluster: Cluster, rng: Random, o: NemesisOptions, end: number, counts: NemesisReport['counts'],
  outages: Outage[], log: (l: string) => void, record: (e: HistoryEvent) => void,
): Promise<void> {
  const kinds = ['kill', 'stop', 'wipe'];
  for (let i = 0; Date.now() < end - 2000; i++) {
    await sleep(rng.int(300, 1200));
    if (o.majority && i % 2 === 1) {
      // Take a majority down: two nodes stopped or killed at once.
      const [a, b, survivor] = shuffle(rng, cluster.nodes);
      counts.majorityOutages += 1;
      log(`nemesis: majority outage, stopping ${a!.port} and killing ${b!.port}`);
      a!.signal('SIGSTOP');
      await b!.stop('SIGKILL');
      const start = Date.now();
      // Besides the clients, probe the survivor directly: a read and a write, both inside the window.
      const probe = 5000 + i; // lock racers are 2000 + 16 per round
      await Promise.all([
        sleep(rng.int(1500, 3000)),
        (async () => {
          await sleep(5);
          await doOp(probe, survivor!, { f: 'read', addr: 0 }, record, counts);
          await doOp(probe, survivor!, { f: 'write', addr: 0, value: `probe-${i}` }, record, counts);
        })(),
      ]);
      outages.push({ start, end: Date.now() + 1, survivor: survivor!.port });
      a!.signal('SIGCONT');
      b!.start();
      await cluster.waitReady().catch(() => {});
      continue;
    }
    const kind = kinds[i % kinds.length]!;
    const n = rng.pick(cluster.nodes);
    const downMs = rng.int(500, 2500);
    if (kind === 'kill') {
      counts.kills += 1;
      log(`nemesis: kill -9 ${n.port} for ${downMs} ms`);
      await n.stop('SIGKILL');
      await sleep(downMs);
      n.start();
    } else if (kind === 'stop') {
      counts.stops += 1;
      log(`nemesis: SIGSTOP ${n.port} for ${downMs} ms`);
      n.signal('SIGSTOP');
      await sleep(downMs);
      n.signal('SIGCONT');
    } else {
      counts.wipes += 1;
      log(`nemesis: kill -9 ${n.port}, wipe its data dir, restart`);
      await n.stop('SIGKILL');
      rmSync(n.dataDir, { recursive: true, force: true });
      await sleep(downMs);
      n.start();
    }
    // One fault at a time: wait until the node serves again (a wiped one has recovered).
    await n.waitFor('/readyz', 20_000);
  }
}

/**
 * The membership nemesis: between faults (kill -9, SIGSTOP, wipe of one member at a time) it
 * adds a node (started with --join on an empty data dir), removes a member, or replaces one
 * (often a member it has just killed and wiped) by a new node, keeping 3 to 5 members. A
 * change sometimes runs while another member is down or stopped. Removed nodes are stopped
 * and their data dirs wiped; their ports come back as new nodes later.
 */
async function membershipLoop(
  cluster: Cluster, members: Set<NodeProcess>, rng: Random, end: number, counts: NemesisReport['counts'], log: (l: string) => void,
): Promise<void> {
  const spares: number[] = await freePorts(3);
  /** SIGSTOPped now: a change is not sent through them (it would wait for its timeout). */
  const paused = new Set<NodeProcess>();
  let serial = 0;
  const addr = (n: NodeProcess): string => `127.0.0.1:${n.port}`;
  const fresh = async (): Promise<NodeProcess> => {
    const port = spares.shift()!;
    // The founders' settings (deadline, TLS and the cluster secret), joining instead of --peers.
    const n = new NodeProcess(port, [], join(cluster.dir, `spare-${serial++}`), [...cluster.node(0).extraArgs, '--join', [...members].map(addr).join(',')]);
    n.clientTls = cluster.node(0).clientTls;
    cluster.nodes.push(n);
    n.start();
    await n.waitFor('/livez', 20_000);
    return n;
  };
  const retire = async (n: NodeProcess): Promise<void> => {
    members.delete(n);
    await n.stop('SIGKILL');
    rmSync(n.dataDir, { recursive: true, force: true });
    spares.push(n.port);
  };
  const change = async (body: Record<string, string>, through: NodeProcess[]): Promise<boolean> => {
    for (const n of through) {
      try {
        const r = await http(`${n.url}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) }, n.clientTls);
        if (r.status === 200) {
          log(`nemesis: ${body['action']} done: epoch ${r.body.epoch}, ${r.body.change}, ${r.body.registersCopied} registers copied in ${r.body.ms} ms`);
          return true;
        }
        log(`nemesis: ${body['action']} through ${n.port} refused: ${r.status} ${r.body?.error?.code} ${String(r.body?.error?.message).slice(0, 160)}`);
      } catch (err) {
        log(`nemesis: ${body['action']} through ${n.port} failed: ${(err as Error).message}`);
      }
    }
    counts.changesFailed += 1;
    return false;
  };
  for (let i = 0; Date.now() < end - 5000; i++) {
    await sleep(rng.int(200, 800));
    const live = (): NodeProcess[] => [...members].filter((n) => n.running && !paused.has(n));
    const step = i % 4;
    if (step === 1 || step === 3) {
      // A fault on one member, sometimes left in place during the change that follows.
      const n = rng.pick([...members]);
      const kind = rng.pick(['kill', 'stop', 'wipe'] as const);
      const during = rng.chance(0.4);
      log(`nemesis: ${kind} ${n.port}${during ? ' during the next change' : ''}`);
      if (kind === 'stop') {
        counts.stops += 1;
        n.signal('SIGSTOP');
        paused.add(n);
      } else {
        kind === 'kill' ? counts.kills += 1 : counts.wipes += 1;
        await n.stop('SIGKILL');
        if (kind === 'wipe') rmSync(n.dataDir, { recursive: true, force: true });
      }
      const heal = async (): Promise<void> => {
        await sleep(rng.int(300, 1500));
        n.signal('SIGCONT');
        paused.delete(n);
        if (!n.running && members.has(n)) startAmong(n, members);
        if (members.has(n)) await n.waitFor('/readyz', 30_000).catch((err: unknown) => log(`nemesis: ${n.port} not ready: ${(err as Error).message.split('\n')[0]}`));
      };
      if (!during) {
        await heal();
        continue;
      }
      const others = live().filter((m) => m !== n);
      if (kind !== 'stop' && members.size > 3 && rng.chance(0.5)) {
        // Replace the member that is down (its data may be gone) by a new node.
        counts.replaces += 1;
        const repl = await fresh();
        if (await change({ action: 'replace', member: addr(n), address: addr(repl) }, others)) {
          members.add(repl);
          await retire(n);
          await repl.waitFor('/readyz', 30_000).catch(() => {});
        } else {
          await heal();
          await retire(repl).catch(() => {});
          cluster.nodes.splice(cluster.nodes.indexOf(repl), 1);
        }
        continue;
      }
      await membershipChange();
      await heal();
      continue;
    }
    await membershipChange();

    async function membershipChange(): Promise<void> {
      const through = shuffle(rng, live());
      if (members.size < 5 && (members.size === 3 || rng.chance(0.5)) && spares.length > 0) {
        counts.adds += 1;
        const n = await fresh();
        if (await change({ action: 'add', address: addr(n) }, through)) {
          members.add(n);
          await n.waitFor('/readyz', 30_000).catch(() => {});
        } else {
          await n.stop('SIGKILL');
          rmSync(n.dataDir, { recursive: true, force: true });
          spares.push(n.port);
        }
      } else if (members.size > 3) {
        counts.removes += 1;
        const gone = rng.pick([...members]);
        if (await change({ action: 'remove', member: addr(gone) }, through)) await retire(gone);
      }
    }
  }
}

/**
 * Starts member `n` the way an operator keeps its unit file current: a node that joined with
 * --join names the members of now (the ones it joined through may since have been removed, and
 * a wiped data dir has only --join to find the cluster by); a founder whose --peers are all gone
 * from the member set joins through the members of now instead.
 */
function startAmong(n: NodeProcess, members: ReadonlySet<NodeProcess>): void {
  const others = [...members].filter((m) => m !== n);
  const joinAt = others.map((m) => `127.0.0.1:${m.port}`).join(',');
  const i = n.extraArgs.indexOf('--join');
  if (i >= 0) {
    n.extraArgs = [...n.extraArgs.slice(0, i + 1), joinAt, ...n.extraArgs.slice(i + 2)];
  } else if (n.peers.length > 0 && !n.peers.some((p) => others.some((m) => m.port === p))) {
    n.peers = [];
    n.extraArgs = [...n.extraArgs, '--join', joinAt];
  }
  n.start();
}

function shuffle<T>(rng: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
