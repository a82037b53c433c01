import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { carstamp, compareTags, formatTag, maxVersioned, nextRmwTag, nextTag, parseTag, tagProblem, tagsEqual, ZERO_TAG } from '../../src/core/tag.js';
import { limits } from '../../src/core/limits.js';

const test = suite('tag');

test('tags order by seq first, then by writer', () => {
  assert.ok(compareTags({ seq: 1, writer: 'z' }, { seq: 2, writer: 'a' }) < 0);
  assert.ok(compareTags({ seq: 2, writer: 'a' }, { seq: 2, writer: 'b' }) < 0);
  assert.ok(compareTags({ seq: 2, writer: 'b' }, { seq: 2, writer: 'a' }) > 0);
  assert.is(compareTags({ seq: 2, writer: 'a' }, { seq: 2, writer: 'a' }), 0);
  assert.ok(compareTags(ZERO_TAG, { seq: 0, writer: 'a' }) < 0, 'any writer beats the initial empty writer');
});

test('seq compares numerically, not as text', () => {
  assert.ok(compareTags({ seq: 9, writer: 'a' }, { seq: 10, writer: 'a' }) < 0);
});

test('the order is total and antisymmetric over a sample', () => {
  const tags = [0, 1, 2, 10].flatMap((seq) => ['', 'a', 'a.1', 'a.10', 'b'].map((writer) => ({ seq, writer })));
  for (const a of tags) {
    for (const b of tags) {
      assert.is(Math.sign(compareTags(a, b)), -Math.sign(compareTags(b, a)));
      for (const c of tags) {
        if (compareTags(a, b) < 0 && compareTags(b, c) < 0) assert.ok(compareTags(a, c) < 0, 'transitive');
      }
    }
  }
});

test('nextTag is strictly greater than what it observed, for any writer', () => {
  const observed = { seq: 4, writer: 'zzzz' };
  const next = nextTag(observed, 'a');
  assert.equal(next, { seq: 5, writer: 'a' });
  assert.ok(compareTags(next, observed) > 0);
});

test('maxVersioned keeps the pair with the greater tag', () => {
  const a = { tag: { seq: 1, writer: 'b' }, value: 'a' };
  const b = { tag: { seq: 1, writer: 'c' }, value: 'b' };
  assert.is(maxVersioned(a, b), b);
  assert.is(maxVersioned(b, a), b);
});

test('formatTag', () => {
  assert.is(formatTag({ seq: 3, writer: 'ab.2' }), '3@ab.2');
  assert.is(formatTag(ZERO_TAG), '0@-');
});

test('tagProblem accepts what writes issue and names what they never do', () => {
  const max = limits.tagSeqMax;
  assert.is(tagProblem(ZERO_TAG, max), null);
  assert.is(tagProblem({ seq: 1, writer: '5f2c9a1e.1' }, max), null);
  assert.is(tagProblem({ seq: max, writer: '5f2c9a1e.12' }, max), null);
  assert.ok(Number.isSafeInteger(nextTag({ seq: max, writer: 'a' }, 'b').seq), 'the tag after the ceiling is still a safe integer');
  assert.match(tagProblem({ seq: max + 1, writer: '5f2c9a1e.1' }, max)!, /above the ceiling/);
  assert.match(tagProblem({ seq: Number.MAX_SAFE_INTEGER, writer: '5f2c9a1e.1' }, max)!, /above the ceiling/);
  assert.match(tagProblem({ seq: -1, writer: '5f2c9a1e.1' }, max)!, /not a non-negative integer/);
  assert.match(tagProblem({ seq: 1.5, writer: '5f2c9a1e.1' }, max)!, /not a non-negative integer/);
  assert.match(tagProblem({ seq: 0, writer: '5f2c9a1e.1' }, max)!, /seq 0/);
  for (const writer of ['', 'z', '5f2c9a1e', '5f2c9a1e.0', '5F2C9A1E.1', '5f2c9a1e.1 ', 'x'.repeat(200)]) {
    assert.match(tagProblem({ seq: 3, writer }, max)!, /writer id/, JSON.stringify(writer));
  }
});

test('carstamps: an rmw sorts right after its base and before any later write (docs/rmw.md)', () => {
  const base = { seq: 5, writer: '0000000a.1' };
  const rmw = nextRmwTag(base);
  assert.equal(rmw, { seq: 5, writer: '0000000a.1', rmwc: 1 });
  assert.ok(compareTags(base, rmw) < 0);
  // A concurrent write with the same seq and a larger writer id sorts after it (rmwc compared last, not before writer).
  assert.ok(compareTags(rmw, { seq: 5, writer: '0000000b.1' }) < 0);
  assert.ok(compareTags(rmw, { seq: 6, writer: '00000000.1' }) < 0);
  assert.ok(compareTags(nextRmwTag(rmw), rmw) > 0);
  // Absent rmwc is 0: the tags of before compare and equal as they did.
  assert.ok(tagsEqual({ seq: 5, writer: '0000000a.1' }, carstamp(5, '0000000a.1', 0)));
  assert.not.ok(tagsEqual(base, rmw));
  assert.equal(Object.keys(carstamp(5, 'w', 0)), ['seq', 'writer'], 'rmwc 0 is left out, so plain tags send the bytes they did');
  assert.ok(compareTags(ZERO_TAG, nextRmwTag(ZERO_TAG)) < 0, 'an rmw on a never-written address');
  assert.ok(compareTags(nextRmwTag(ZERO_TAG), { seq: 1, writer: '0000000a.1' }) < 0);
});

test('formatTag and parseTag round-trip carstamps, and parseTag refuses what is not one', () => {
  for (const tag of [ZERO_TAG, { seq: 3, writer: '0000000a.12' }, { seq: 3, writer: '0000000a.12', rmwc: 4 }, { seq: 0, writer: '', rmwc: 2 }]) {
    assert.equal(parseTag(formatTag(tag)), tag, formatTag(tag));
  }
  assert.is(formatTag({ seq: 3, writer: '0000000a.1', rmwc: 2 }), '3@0000000a.1+2');
  for (const bad of ['', '3', '3@', '3@x', '-1@0000000a.1', '3@0000000a.1+0', '3@0000000a.1+', '99999999999999999@0000000a.1', '3@0000000a.1+x']) {
    assert.is(parseTag(bad), null, bad);
  }
});

test('tagProblem: rmwc is absent or an integer from 1 to the ceiling', () => {
  const max = limits.tagSeqMax;
  assert.is(tagProblem({ seq: 2, writer: '0000000a.1', rmwc: 1 }, max), null);
  assert.is(tagProblem({ seq: 0, writer: '', rmwc: 3 }, max), null, 'an rmw computed from the initial value');
  for (const rmwc of [0, -1, 1.5, max + 1, Number.NaN]) {
    assert.match(tagProblem({ seq: 2, writer: '0000000a.1', rmwc }, max)!, /rmwc/, String(rmwc));
  }
  assert.match(tagProblem({ seq: 2, writer: '0000000a.1', rmwc: '1' as unknown as number }, max)!, /rmwc/);
});

test.run();
