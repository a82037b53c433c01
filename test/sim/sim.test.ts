import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MUTATIONS, RECONFIGURE } from './mutations.js';
import { runSeeds } from './seed-range.js';
import { defaultSimOptions, FAULT_KINDS, simulate, type Fault } from './simulator.js';

const test = suite('deterministic simulation of real nodes');

const DISK_FAULTS: ReadonlySet<string> = new Set(['wipe', 'wipe-mid-write', 'rot', 'rot-mid-write', 'rot-value', 'rot-value-stop', 'wipe-storm']);

test('1,000 seeds (800 on 3 nodes, 200 on 5) under every fault class: linearizable, live once faults stop, queues bounded', async () => {
  for (const [nodes, count] of [[3, 800], [5, 200]] as const) {
    const r = await runSeeds({ from: 1, count, nodes, mutations: {}, faults: FAULT_KINDS, reconfigure: false, safetyOnly: false });
    assert.is(r.failed, undefined, `seed ${r.failed} (${nodes} nodes): ${r.why}\nreplay: npm run sim -- --seed ${r.failed} --nodes ${nodes} --log`);
    // Disk faults (wipes, rotten registers) go one at a time and wait while any register is
    // damaged or a wipe is being recovered (simulator.ts), so they come about half as often.
    for (const kind of FAULT_KINDS) {
      const bar = DISK_FAULTS.has(kind) ? count / 50 : count / 25;
      assert.ok((r.totals.kinds.get(kind) ?? 0) >= bar, `fault ${kind} was injected (${r.totals.kinds.get(kind) ?? 0} times, at least ${bar} expected)`);
    }
    assert.ok(r.totals.wipes >= count / 20, 'wiped data dirs were exercised');
    assert.ok(r.totals.ok > r.totals.ops * 0.8, `most operations completed (${r.totals.ok} of ${r.totals.ops})`);
    assert.ok(r.totals.queues > 0, 'queues were measured');
  }
});

test('300 seeds with members added, removed and replaced (two at once now and then) among every fault class: linearizable, one member set per epoch, live', async () => {
  const r = await runSeeds({ from: 1, count: 300, nodes: RECONFIGURE.nodes, mutations: {}, faults: FAULT_KINDS, reconfigure: true, safetyOnly: false });
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

for (const [name, { what, mutations, faults, reconfigure, seeds = 1000, builtBy }] of Object.entries(MUTATIONS)) {
  if (builtBy !== undefined) continue; // caught where it is built on purpose (see MUTATIONS)
  test(`the simulation catches a broken node within ${seeds.toLocaleString('en')} seeds: ${what} (${name}${faults ? `; faults ${faults.join(', ')}` : ''})`, async () => {
    const r = await runSeeds({ from: 1, count: seeds, nodes: reconfigure ? RECONFIGURE.nodes : 3, mutations, faults: faults ?? FAULT_KINDS, reconfigure: reconfigure === true, safetyOnly: reconfigure === true });
    assert.ok(r.failed !== undefined, `no check failed in ${seeds} seeds${reconfigure ? ' (liveness alone does not count here)' : ''}`);
  });
}

test.run();
