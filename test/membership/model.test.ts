import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runModel, type ModelMutations, type ModelOptions } from './model.js';

/**
 * docs/membership.md checked before it is wired into the node: the pure pieces (Coordinator
 * with joint quorums, Paxos, Transfer, the replica gate) under random message orders, growing
 * and shrinking member sets, concurrent proposals and crashes; histories must be linearizable.
 */
const test = suite('membership protocol, model-checked (pure pieces, random schedules)');

/** Runs seeds 1..count with `options`; the first seed that fails a check, or undefined. */
function firstFailing(count: number, options: Omit<ModelOptions, 'seed' | 'steps'>): { seed: number; why: string } | undefined {
  for (let seed = 1; seed <= count; seed++) {
    const r = runModel({ seed, steps: 4_000, ...options });
    if (r.verdict.result !== 'valid') return { seed, why: r.verdict.result === 'invalid' ? r.verdict.explanation : 'unchecked' };
    if (r.problems.length > 0) return { seed, why: r.problems[0]! };
  }
  return undefined;
}

test('400 random runs: linearizable, one member set per epoch, while member sets grow, shrink and are replaced (1 to 5 members)', () => {
  let ops = 0;
  let ok = 0;
  let changed = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = runModel({ seed, steps: 4_000 });
    assert.is(r.verdict.result, 'valid', `seed ${seed}: ${r.verdict.result === 'invalid' ? r.verdict.explanation : 'unchecked'}`);
    assert.equal(r.problems, [], `seed ${seed}`);
    ops += r.ops;
    ok += r.ok;
    if (r.epochs > 2) changed += 1;
  }
  assert.ok(ok > ops * 0.5, `most operations completed (${ok} of ${ops})`);
  assert.ok(changed > 100, `member sets changed at least twice in many runs (${changed} of 400)`);
});

test('400 random runs of one- and two-member sets (replacing the only member): linearizable', () => {
  const failed = firstFailing(400, { maxMembers: 2 });
  assert.is(failed, undefined, failed && `seed ${failed.seed}: ${failed.why}`);
});

/** Each broken variant, and the mix of runs that exposes it (as the node simulation's fault mixes). */
const MUTATIONS: Record<string, { readonly mutations: ModelMutations; readonly options?: Omit<ModelOptions, 'seed' | 'steps' | 'mutations'> }> = {
  'the new configuration counts before the state transfer': { mutations: { newConfigBeforeTransfer: true } },
  "operations in a transition count only the new set's quorum": { mutations: { onlyNewQuorumInTransition: true } },
  'two proposers both install epoch e+1 (no prepare phase)': { mutations: { skipPrepare: true } },
  'a retired member still answers as a replica': { mutations: { retiredAnswers: true } },
  'answers given under an earlier state still count (model seed 3451; one- and two-member sets)': { mutations: { answersOutliveStates: true }, options: { maxMembers: 2 } },
};

for (const [what, { mutations, options }] of Object.entries(MUTATIONS)) {
  test(`caught within 1,000 runs: ${what}`, () => {
    assert.ok(firstFailing(1_000, { mutations, ...options }) !== undefined, 'no violation (linearizability, or two member sets for one epoch) in 1,000 runs');
  });
}

test.run();
