import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MUTATIONS, RECONFIGURE } from './mutations.js';
import { defaultSimOptions, FAULT_KINDS, simulate, type Fault, type FaultKind, type SimMutations } from './simulator.js';

const test = suite('deterministic simulation of real nodes');

interface Totals { ops: number; ok: number; wipes: number; events: number; kinds: Map<Fault['kind'], number>; queues: number; changesDone: number }

/**
 * Runs seeds from..from+count-1; stops at the first one that fails a check. With `safetyOnly`,
 * a seed that fails only liveness is passed over: the simulation with member changes has rare
 * liveness failures of its own (docs/membership.md), which would let a mutation look caught.
 */
async function runSeeds(from: number, count: number, nodes: number, mutations: SimMutations = {}, faults: readonly FaultKind[] = FAULT_KINDS, reconfigure = false, safetyOnly = false) {
  const totals: Totals = { ops: 0, ok: 0, wipes: 0, events: 0, kinds: new Map(), queues: 0, changesDone: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const r = await simulate(defaultSimOptions(seed, { nodes, mutations, faults: [...faults], ...(reconfigure ? RECONFIGURE : {}) }));
    totals.changesDone += r.counts.changesDone;
    totals.ops += r.counts.ops;
    totals.ok += r.counts.ok;
    totals.wipes += r.counts.wipes;
    totals.events += r.counts.events;
    totals.queues = Math.max(totals.queues, r.counts.maxLinkCalls);
    for (const f of r.faults) totals.kinds.set(f.kind, (totals.kinds.get(f.kind) ?? 0) + 1);
    // A broken node may leave a history too tangled to check in time: that seed proves nothing either way.
    if (Object.keys(mutations).length === 0) assert.is.not(r.verdict.result, 'unknown', `seed ${seed} could not be checked in time`);
    if (r.verdict.result === 'invalid') return { failed: seed, why: r.verdict.explanation, totals };
    const problems = safetyOnly ? r.problems.filter((p) => !p.startsWith('liveness:') && !p.startsWith('convergence:')) : r.problems;
    if (problems.length > 0) return { failed: seed, why: problems.slice(0, 3).join('; '), totals };
  }
  return { failed: undefined, why: '', totals };
}

test('1,000 seeds (800 on 3 nodes, 200 on 5) under every fault class: linearizable, live once faults stop, queues bounded', async () => {
  for (const [nodes, count] of [[3, 800], [5, 200]] as const) {
    const r = await runSeeds(1, count, nodes);
    assert.is(r.failed, undefined, `seed ${r.failed} (${nodes} nodes): ${r.why}\nreplay: npm run sim -- --seed ${r.failed} --nodes ${nodes} --log`);
    for (const kind of FAULT_KINDS) assert.ok((r.totals.kinds.get(kind) ?? 0) >= count / 25, `fault ${kind} was injected (${r.totals.kinds.get(kind) ?? 0} times)`);
    assert.ok(r.totals.wipes >= count / 20, 'wiped data dirs were exercised');
    assert.ok(r.totals.ok > r.totals.ops * 0.8, `most operations completed (${r.totals.ok} of ${r.totals.ops})`);
    assert.ok(r.totals.queues > 0, 'queues were measured');
  }
});

test('300 seeds with members added, removed and replaced (two at once now and then) among every fault class: linearizable, one member set per epoch, live', async () => {
  const r = await runSeeds(1, 300, RECONFIGURE.nodes, {}, FAULT_KINDS, true);
  assert.is(r.failed, undefined, `seed ${r.failed}: ${r.why}\nreplay: npm run sim -- --seed ${r.failed} --reconfigure --log`);
  assert.ok(r.totals.changesDone >= 300, `member changes completed: ${r.totals.changesDone}`);
  for (const action of ['add', 'remove', 'replace']) assert.ok((r.totals.kinds.get(`member ${action}` as Fault['kind']) ?? 0) > 30, `member ${action} was asked`);
});

test('the same seed replays the same run exactly; another seed runs differently', async () => {
  const a = await simulate(defaultSimOptions(1234));
  const b = await simulate(defaultSimOptions(1234));
  assert.equal(a.history, b.history);
  assert.equal(a.faults, b.faults);
  assert.equal(a.counts, b.counts);
  assert.ok(a.faults.length > 0 && a.history.length > 0);
  assert.not.equal((await simulate(defaultSimOptions(1235))).history, a.history);
});

for (const [name, { what, mutations, faults, reconfigure, seeds = 1000 }] of Object.entries(MUTATIONS)) {
  test(`the simulation catches a broken node within ${seeds.toLocaleString('en')} seeds: ${what} (${name}${faults ? `; faults ${faults.join(', ')}` : ''})`, async () => {
    const r = await runSeeds(1, seeds, reconfigure ? RECONFIGURE.nodes : 3, mutations, faults, reconfigure === true, reconfigure === true);
    assert.ok(r.failed !== undefined, `no check failed in ${seeds} seeds${reconfigure ? ' (liveness alone does not count here)' : ''}`);
  });
}

test.run();
