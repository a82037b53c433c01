import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MODEL_MUTATIONS, runModel, type ModelOptions } from './model.js';

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

/** Each broken variant (MODEL_MUTATIONS), what it breaks, and the mix of runs that exposes it. */
const MUTATIONS: Record<string, { readonly what: string; readonly options?: Omit<ModelOptions, 'seed' | 'steps' | 'mutations'> }> = {
  'new-config-before-transfer': { what: 'the new configuration counts before the state transfer' },
  'only-new-quorum-in-transition': { what: "operations in a transition count only the new set's quorum" },
  'skip-prepare': { what: 'two proposers both install epoch e+1 (no prepare phase)' },
  'retired-answers': { what: 'a retired member still answers as a replica' },
  'answers-outlive-states': { what: 'answers given under an earlier state still count (model seed 3451; one- and two-member sets)', options: { maxMembers: 2 } },
};

test('every mutation of the model is tested', () => {
  assert.equal(Object.keys(MUTATIONS).sort(), Object.keys(MODEL_MUTATIONS).sort());
});

for (const [name, { what, options }] of Object.entries(MUTATIONS)) {
  test(`caught within 1,000 runs: ${what} (${name})`, () => {
    assert.ok(firstFailing(1_000, { mutations: MODEL_MUTATIONS[name], ...options }) !== undefined, 'no violation (linearizability, or two member sets for one epoch) in 1,000 runs');
  });
}

test.run();
