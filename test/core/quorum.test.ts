import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from '../../src/core/assert.js';
import { JointQuorumTracker, majority, QuorumTracker } from '../../src/core/quorum.js';

const test = suite('quorum');

test('majority is floor(n/2)+1', () => {
  assert.equal([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
  assert.throws(() => majority(0), (e: unknown) => e instanceof AssertionError);
});

test('a quorum is reached by distinct answers only', () => {
  const t = new QuorumTracker(['a', 'b', 'c'], 2);
  assert.is(t.state, 'pending');
  assert.ok(t.answer('a'));
  assert.not.ok(t.answer('a'), 'a duplicated answer is not counted');
  assert.is(t.state, 'pending');
  assert.ok(t.answer('c'));
  assert.is(t.state, 'reached');
  assert.is(t.count, 2);
});

test('refusals make a quorum impossible once too few members remain', () => {
  const t = new QuorumTracker(['a', 'b', 'c'], 2);
  t.refuse('b');
  assert.is(t.state, 'pending');
  t.refuse('c');
  assert.is(t.state, 'impossible');
  assert.not.ok(t.answer('c'), 'a refused member does not count');
});

test('answers from non-members are a bug', () => {
  const t = new QuorumTracker(['a', 'b', 'c'], 2);
  assert.throws(() => t.answer('x'), (e: unknown) => e instanceof AssertionError);
});

test('a joint quorum needs a majority of the old set and of the new one (3 -> 5)', () => {
  const t = new JointQuorumTracker([{ members: ['a', 'b', 'c'], needed: 2 }, { members: ['a', 'b', 'c', 'd', 'e'], needed: 3 }]);
  t.answer('d');
  t.answer('e');
  assert.is(t.state, 'pending', 'd and e are no majority of the old set');
  t.answer('a');
  assert.is(t.state, 'pending', '{a} of the old set is not a majority; {a, d, e} of the new one is');
  assert.is(t.describe(), '1/3 and 3/5');
  t.answer('c');
  assert.is(t.state, 'reached');
});

test('a joint quorum is impossible as soon as one set cannot reach its majority (5 -> 3 with two old members refusing)', () => {
  const t = new JointQuorumTracker([{ members: ['a', 'b', 'c', 'd', 'e'], needed: 3 }, { members: ['a', 'b', 'c'], needed: 2 }]);
  t.refuse('b');
  t.refuse('c');
  assert.is(t.state, 'impossible', 'the new set {a, b, c} has only a left');
  assert.throws(() => t.answer('x'), (e: unknown) => e instanceof AssertionError);
});

test.run();
