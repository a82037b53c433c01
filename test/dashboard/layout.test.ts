import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fit, fitColumns, planRows, type Column } from '../../src/dashboard/layout.js';

const test = suite('dashboard layout (pure)');

const cols: Column[] = [
  { key: 'a', title: 'A', min: 10, max: 20, priority: 10 },
  { key: 'b', title: 'B', min: 10, max: 10, priority: 5 },
  { key: 'c', title: 'C', min: 10, max: 30, priority: 1 },
];

test('columns: the lowest priority goes first when they do not fit; room left goes by priority', () => {
  assert.equal(fitColumns(cols, 34).map((c) => [c.key, c.width]), [['a', 10], ['b', 10], ['c', 10]]);
  assert.equal(fitColumns(cols, 33).map((c) => c.key), ['a', 'b'], 'c dropped');
  assert.equal(fitColumns(cols, 21).map((c) => c.key), ['a'], 'b dropped too');
  assert.equal(fitColumns(cols, 50).map((c) => [c.key, c.width]), [['a', 20], ['b', 10], ['c', 16]]);
  assert.equal(fitColumns(cols.map((c) => ({ ...c, want: 12 })), 50).map((c) => [c.key, c.width]), [['a', 12], ['b', 10], ['c', 12]], 'no wider than the content wants');
});

test('cells are cut with an ellipsis or padded to their width', () => {
  assert.is(fit('127.0.0.1:3030', 8), '127.0.0…');
  assert.is(fit('ok', 4), 'ok  ');
  assert.is(fit('7', 3, 'right'), '  7');
  assert.is(fit('☃☃☃', 2), '☃…');
});

test('rows: header, banner and footer always; a row per member while room lasts; tags the rest', () => {
  assert.equal(planRows(24, 3, false), { peers: 3, traffic: 3, tags: 10 });
  assert.equal(planRows(24, 3, true), { peers: 3, traffic: 3, tags: 9 });
  assert.equal(planRows(50, 5, false), { peers: 5, traffic: 5, tags: 32 });
  assert.equal(planRows(12, 5, false), { peers: 2, traffic: 1, tags: 1 }, 'tiny: every panel keeps a row');
});

test.run();
