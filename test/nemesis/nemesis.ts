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
 * random reads and writes of unique values through random nodes while the nemesis SIGKILLs
 * and restarts nodes, SIGSTOPs and resumes them, and restarts a node on a wiped data dir.
 * By default never more than a minority is faulty at once; `majority` mode also takes a
 * majority down to show the cluster refuses rather than lies. The history is checked for
 * linearizability at the end.
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
  readonly history: HistoryEvent[];
  readonly logs: string;
}

const OP_DEADLINE_MS = 1000;

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
  let convergence: Convergence = { ms: 0, differing: 'the run ended before all members were up' };
  try {
    const clients = Array.from({ length: o.clients }, (_, c) => clientLoop(c, cluster, rng, o.addrs, end, record, counts));
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
    for (let addr = 0; addr < o.addrs; addr++) {
      for (const n of members) await doOp(1000 + addr, n, 'read', addr, undefined, record, counts);
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
  return { verdict: checkHistory(history, { budgetMs: 60_000 }), counts, duringOutages: insideOutages(history, outages), convergence, history, logs: cluster.logs() };
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
  record: (e: HistoryEvent) => void, counts: NemesisReport['counts'],
): Promise<void> {
  for (let k = 0; Date.now() < end; k++) {
    const node = rng.pick(cluster.nodes);
    const addr = rng.int(0, addrs - 1);
    const f = rng.chance(0.5) ? 'write' : 'read';
    await doOp(client, node, f, addr, f === 'write' ? `c${client}-${k}` : undefined, record, counts);
  }
}

async function doOp(
  process: number, node: NodeProcess, f: 'read' | 'write', addr: number, value: string | undefined,
  record: (e: HistoryEvent) => void, counts: NemesisReport['counts'],
): Promise<void> {
  counts.ops += 1;
  record({ type: 'invoke', process, f, addr, ...(f === 'write' ? { value: value! } : {}), node: node.port });
  const outcome = (type: 'ok' | 'fail' | 'info', v?: string | null): void => {
    if (type === 'ok') counts.ok += 1;
    else if (type === 'fail') counts.failed += 1;
    else counts.unknown += 1;
    record({ type, process, f, addr, ...(v !== undefined ? { value: v } : {}) });
  };
  try {
    const signal = AbortSignal.timeout(OP_DEADLINE_MS * 3);
    const res = f === 'write'
      ? await http(`${node.url}/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr, value }), signal }, node.clientTls)
      : await http(`${node.url}/read/${addr}`, { signal }, node.clientTls);
    const body = res.body as { value?: string | null; error?: { code: string } };
    if (res.status === 200) return outcome('ok', f === 'read' ? body.value ?? null : undefined);
    // A write that failed after its update went out (outcome_unknown, or anything not known to
    // be definite) may still reach replicas: unknown. A definite failure did not happen, and the
    // checker holds the node to it. A failed read did nothing.
    return outcome(f === 'write' && !isDefiniteFailure(body.error?.code) ? 'info' : 'fail');
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    const refused = (e.cause?.code ?? e.code) === 'ECONNREFUSED';
    return outcome(f === 'write' && !refused ? 'info' : 'fail');
  }
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
      const probe = 2000 + i;
      await Promise.all([
        sleep(rng.int(1500, 3000)),
        (async () => {
          await sleep(5);
          await doOp(probe, survivor!, 'read', 0, undefined, record, counts);
          await doOp(probe, survivor!, 'write', 0, `probe-${i}`, record, counts);
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
