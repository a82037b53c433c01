import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTagRows, catchupSummary, rate, sparkline } from '../../src/dashboard/view-model.js';

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

test("a member's catch-up in a few characters, from the lags its status reports", () => {
  const lag = (changes: number | null, seconds: number | null, mode = 'incremental') => ({ changes, seconds, mode });
  assert.is(catchupSummary([lag(0, 0), lag(0, 0)]), 'ok');
  assert.is(catchupSummary([lag(0, 0), lag(1204, 41.6)]), '1204 behind (42 s)', 'the furthest peer, with the age of its oldest change');
  assert.is(catchupSummary([lag(3, 0.2)]), '3 behind', 'no age under a second');
  assert.is(catchupSummary([lag(0, 0), lag(5, 1, 'comparing')]), 'comparing');
  assert.is(catchupSummary([lag(null, null)]), 'starting', 'a peer that never answered yet');
  assert.is(catchupSummary([]), '-', 'a one-member cluster has nothing to catch up');
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
