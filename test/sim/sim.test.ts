import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultSimOptions, simulate, type SimMutations } from './simulator.js';

const test = suite('deterministic simulation');

/** Runs seeds from..from+count-1; returns the first violating seed, and totals. */
function runSeeds(from: number, count: number, nodes: number, mutations: SimMutations = {}) {
  const totals = { ops: 0, ok: 0, faults: 0, wipes: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const r = simulate(defaultSimOptions(seed, { nodes, mutations }));
    totals.ops += r.counts.ops;
    totals.ok += r.counts.ok;
    totals.faults += r.counts.faults;
    totals.wipes += r.counts.wipes;
    assert.is.not(r.verdict.result, 'unknown', `seed ${seed} could not be checked in time`);
    if (r.verdict.result === 'invalid') return { violation: seed, explanation: r.verdict.explanation, totals };
  }
  return { violation: undefined, explanation: '', totals };
}

test('bounded run: 600 seeds on 3 nodes and 300 on 5 nodes, under drops, duplicates, delays, crashes, partitions and wipes, are linearizable', () => {
  for (const [nodes, count] of [[3, 600], [5, 300]] as const) {
    const r = runSeeds(1, count, nodes);
    assert.is(r.violation, undefined, `seed ${r.violation} (${nodes} nodes): ${r.explanation}\nreplay: npm run sim -- --seed ${r.violation} --nodes ${nodes}`);
    assert.ok(r.totals.faults > count, 'faults were injected');
    assert.ok(r.totals.wipes > count / 10, 'wiped data dirs were exercised');
    assert.ok(r.totals.ok > r.totals.ops / 2, 'most operations completed');
  }
});

test('the same seed replays the same run exactly', () => {
  const a = simulate(defaultSimOptions(1234));
  const b = simulate(defaultSimOptions(1234));
  assert.equal(a.history, b.history);
  assert.equal(a.counts, b.counts);
  assert.not.equal(simulate(defaultSimOptions(1235)).history, a.history);
});

const MUTANTS: [string, SimMutations][] = [
  ["the seeds' one-round read without write-back", { readWithoutWriteBack: true }],
  ['a fast path taken when the quorum does not agree (own replica has the newest tag)', { fastPathWhenSelfHasMax: true }],
  ['replicas acknowledging before persisting, then crashing', { ackBeforePersist: true }],
  ['a quorum smaller than a majority', { quorumOverride: 1 }],
  ['a wiped node answering as an empty replica without recovery', { wipeWithoutRecovery: true }],
];

for (const [name, mutations] of MUTANTS) {
  test(`the checker catches a broken variant: ${name}`, () => {
    const r = runSeeds(1, 1500, 3, mutations);
    assert.ok(r.violation !== undefined, 'no violation found in 1500 seeds');
  });
}

test.run();
