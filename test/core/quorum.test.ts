import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from '../../src/core/assert.js';
import { majority, QuorumTracker } from '../../src/core/quorum.js';

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

test.run();
