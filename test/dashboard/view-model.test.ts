import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTagRows, rate, sparkline } from '../../src/dashboard/view-model.js';

const test = suite('dashboard view model');
const t = (seq: number, writer = 'a.1') => ({ seq, writer });

test('tag rows merge the replicas\' pages and mark replicas behind the newest tag', () => {
  const rows = buildTagRows([
    { items: [{ addr: 1, tag: t(2) }, { addr: 2, tag: t(1) }], next: null },
    { items: [{ addr: 1, tag: t(1) }], next: null },     // has nothing at 2: initial tag, behind
    null,                                                 // did not answer
  ], 10);
  assert.equal(rows.map((r) => r.addr), [1, 2]);
  assert.equal(rows[0]!.behind, [false, true, false]);
  assert.equal(rows[1]!.tags, [t(1), { seq: 0, writer: '' }, null]);
  assert.equal(rows[1]!.behind, [false, true, false]);
});

test('a replica whose page ended before an address is unknown there, not behind', () => {
  const rows = buildTagRows([
    { items: [{ addr: 1, tag: t(1) }, { addr: 5, tag: t(1) }], next: null },
    { items: [{ addr: 1, tag: t(1) }], next: 1 },        // a full page of 1: stops at address 1
  ], 2);
  assert.equal(rows[1]!.tags, [t(1), null]);
  assert.equal(rows[1]!.behind, [false, false]);
});

test('rates and sparklines', () => {
  assert.is(rate(150, 100, 500), 100);
  assert.is(rate(150, undefined, 500), null);
  assert.is(rate(10, 100, 500), null, 'a counter that went down (node restarted) has no rate');
  assert.is(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
  assert.is(sparkline([5, 5]), '▁▁');
  assert.is(sparkline([]), '');
});

test.run();
