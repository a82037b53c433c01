import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHistory, type HistoryEvent } from '../../src/check/history.js';
import { checkHistory } from '../../src/check/linearizability.js';

const test = suite('linearizability checker');

/** Compact history notation: [process, type, f, value?] on address 0 unless given. */
type Step = [number, 'invoke' | 'ok' | 'fail' | 'info', 'r' | 'w', (string | null)?, number?];
const h = (...steps: Step[]): HistoryEvent[] => steps.map(([process, type, f, value, addr]) => ({
  process, type, f: f === 'r' ? 'read' : 'write', addr: addr ?? 0,
  ...(value !== undefined && (type !== 'invoke' || f === 'w') ? { value } : {}),
  ...(type === 'invoke' && f === 'w' ? { value: value ?? null } : {}),
}) as HistoryEvent);

test('sequential writes and reads are valid', () => {
  const v = checkHistory(h([0, 'invoke', 'w', 'a'], [0, 'ok', 'w', 'a'], [1, 'invoke', 'r'], [1, 'ok', 'r', 'a'], [1, 'invoke', 'r', null, 1], [1, 'ok', 'r', null, 1]));
  assert.is(v.result, 'valid');
});

test('a stale read after a completed write is invalid, and the window is those two operations', () => {
  const v = checkHistory(h([0, 'invoke', 'w', 'a'], [0, 'ok', 'w', 'a'], [1, 'invoke', 'r'], [1, 'ok', 'r', null]));
  assert.is(v.result, 'invalid');
  if (v.result !== 'invalid') return;
  assert.equal(v.window.map((o) => `${o.f}:${o.value}`), ['write:a', 'read:null']);
});

test('a stale read of an older value after a newer write completed is invalid', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', 'a'], [0, 'ok', 'w', 'a'],
    [0, 'invoke', 'w', 'b'], [0, 'ok', 'w', 'b'],
    [1, 'invoke', 'r'], [1, 'ok', 'r', 'a'],
  ));
  assert.is(v.result, 'invalid');
});

test('a new-old inversion between two sequential reads is invalid, even during a write', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', 'new'],
    [1, 'invoke', 'r'], [1, 'ok', 'r', 'new'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', null],
    [0, 'ok', 'w', 'new'],
  ));
  assert.is(v.result, 'invalid');
  // The smallest window: the two reads (no write is invoked between them to explain the change).
  if (v.result === 'invalid') assert.equal(v.window.map((o) => `${o.f}:${o.value}`), ['read:new', 'read:null']);
});

test('a read of a value never written is invalid', () => {
  const v = checkHistory(h([0, 'invoke', 'w', 'a'], [0, 'ok', 'w', 'a'], [1, 'invoke', 'r'], [1, 'ok', 'r', 'zzz']));
  assert.is(v.result, 'invalid');
  if (v.result === 'invalid') assert.match(v.explanation, 'never written');
});

test('a read of the value of a failed write is invalid (it never happened)', () => {
  const v = checkHistory(h([0, 'invoke', 'w', 'a'], [0, 'fail', 'w'], [1, 'invoke', 'r'], [1, 'ok', 'r', 'a']));
  assert.is(v.result, 'invalid');
});

test('concurrent writes observed in both orders by overlapping reads are valid', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', '1'], [1, 'invoke', 'w', '2'],
    [2, 'invoke', 'r'], [3, 'invoke', 'r'],
    [2, 'ok', 'r', '1'], [3, 'ok', 'r', '2'],
    [0, 'ok', 'w', '1'], [1, 'ok', 'w', '2'],
  ));
  assert.is(v.result, 'valid');
});

test('two readers that each see the concurrent writes in opposite orders, sequentially, is invalid', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', '1'], [1, 'invoke', 'w', '2'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', '1'], [2, 'invoke', 'r'], [2, 'ok', 'r', '2'],
    [3, 'invoke', 'r'], [3, 'ok', 'r', '2'], [3, 'invoke', 'r'], [3, 'ok', 'r', '1'],
    [0, 'ok', 'w', '1'], [1, 'ok', 'w', '2'],
  ));
  assert.is(v.result, 'invalid');
});

test('reads concurrent with an unknown-outcome write are valid either way', () => {
  const saw = checkHistory(h([0, 'invoke', 'w', 'x'], [1, 'invoke', 'r'], [1, 'ok', 'r', 'x'], [0, 'info', 'w']));
  const missed = checkHistory(h([0, 'invoke', 'w', 'x'], [1, 'invoke', 'r'], [1, 'ok', 'r', null], [0, 'info', 'w']));
  assert.is(saw.result, 'valid');
  assert.is(missed.result, 'valid');
});

test('an unknown-outcome write may take effect long after its invocation, even after a later write', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', 'late'], [0, 'info', 'w'],
    [1, 'invoke', 'w', 'b'], [1, 'ok', 'w', 'b'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', 'b'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', 'late'],
  ));
  assert.is(v.result, 'valid');
  // ...but once it was observed, it cannot be undone by nothing.
  const undone = checkHistory(h(
    [0, 'invoke', 'w', 'late'], [0, 'info', 'w'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', 'late'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', null],
  ));
  assert.is(undone.result, 'invalid');
});

test('addresses are independent registers', () => {
  const v = checkHistory(h(
    [0, 'invoke', 'w', 'a', 1], [0, 'ok', 'w', 'a', 1],
    [1, 'invoke', 'r', null, 2], [1, 'ok', 'r', null, 2],
    [1, 'invoke', 'r', null, 1], [1, 'ok', 'r', 'a', 1],
  ));
  assert.is(v.result, 'valid');
  const bad = checkHistory(h([0, 'invoke', 'w', 'a', 1], [0, 'ok', 'w', 'a', 1], [1, 'invoke', 'r', null, 2], [1, 'ok', 'r', 'a', 2]));
  assert.is(bad.result, 'invalid');
  if (bad.result === 'invalid') assert.is(bad.addr, 2);
});

test('JSON-lines histories parse, and malformed lines are named', () => {
  const events = parseHistory('{"type":"invoke","process":0,"f":"write","addr":1,"value":"a","time":1}\n\n{"type":"ok","process":0,"f":"write","addr":1,"value":"a"}\n');
  assert.is(events.length, 2);
  assert.throws(() => parseHistory('{"type":"invoke","process":0,"f":"read","addr":-1}'), /line 1: addr/);
  assert.throws(() => parseHistory('nope'), /line 1: not JSON/);
  assert.throws(() => checkHistory(h([0, 'ok', 'r', 'a'])), /without an open invoke/);
});

/** A random linearizable history: a real register, ops with random overlap. */
function randomHistory(ops: number, addrs: number, processes: number, seed: number): HistoryEvent[] {
  let s = seed;
  const rand = (): number => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const regs = new Map<number, string | null>();
  const events: HistoryEvent[] = [];
  const open: { p: number; f: 'read' | 'write'; addr: number; value: string | null; applied: boolean }[] = [];
  let issued = 0;
  const free = Array.from({ length: processes }, (_, p) => p);
  while (issued < ops || open.length > 0) {
    if (issued < ops && free.length > 0 && rand() < 0.5) {
      const p = free.splice(Math.floor(rand() * free.length), 1)[0]!;
      const addr = Math.floor(rand() * addrs);
      const f = rand() < 0.5 ? 'write' : 'read';
      const value = f === 'write' ? `v${issued}` : null;
      events.push({ type: 'invoke', process: p, f, addr, ...(f === 'write' ? { value } : {}) });
      open.push({ p, f, addr, value, applied: false });
      issued++;
    } else if (open.length > 0) {
      const i = Math.floor(rand() * open.length);
      const o = open[i]!;
      if (!o.applied) {
        // The linearization point: apply to the real register.
        if (o.f === 'write') regs.set(o.addr, o.value);
        else o.value = regs.get(o.addr) ?? null;
        o.applied = true;
      } else {
        open.splice(i, 1);
        free.push(o.p);
        events.push({ type: 'ok', process: o.p, f: o.f, addr: o.addr, value: o.value });
      }
    }
  }
  return events;
}

test('a 20,000-operation history over 10 addresses is checked (valid), and one corrupted read is found', () => {
  const events = randomHistory(20_000, 10, 10, 42);
  const v = checkHistory(events, { budgetMs: 30_000 });
  assert.is(v.result, 'valid');
  if (v.result === 'valid') assert.is(v.operations, 20_000);
  // Corrupt a late read: make it return the value of the write before the last one to its address.
  const reads = events.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'ok' && e.f === 'read' && e.value !== null);
  const writesTo = (addr: number, before: number) => events.slice(0, before).filter((e) => e.type === 'ok' && e.f === 'write' && e.addr === addr);
  const target = reads.reverse().find(([e, i]) => writesTo(e.addr, i).length > 3)!;
  const [e, i] = target;
  const older = writesTo(e.addr, i).at(-3)!;
  const corrupted = [...events];
  corrupted[i] = { ...e, value: older.value! };
  const bad = checkHistory(corrupted, { budgetMs: 30_000 });
  assert.is(bad.result, 'invalid');
  if (bad.result === 'invalid') {
    assert.is(bad.addr, e.addr);
    assert.ok(bad.window.length < 30, `window of ${bad.window.length} operations`);
  }
});

/**
 * Rounds of two concurrent writes read back by a later read, which the search can only explain
 * after trying the wrong order first, beside `unknown` writes that timed out early and that no
 * read ever returned (what a nemesis run with many timeouts records).
 */
function contendedWithTimeouts(unknown: number, rounds: number): HistoryEvent[] {
  const steps: Step[] = [];
  for (let u = 0; u < unknown; u++) steps.push([100 + u, 'invoke', 'w', `lost-${u}`]);
  for (let u = 0; u < unknown; u++) steps.push([100 + u, 'info', 'w']);
  for (let k = 0; k < rounds; k++) {
    steps.push([0, 'invoke', 'w', `a${k}`], [1, 'invoke', 'w', `b${k}`], [0, 'ok', 'w'], [1, 'ok', 'w']);
    steps.push([2, 'invoke', 'r'], [2, 'ok', 'r', `a${k}`]);
  }
  return h(...steps);
}

test('writes that timed out and were never read do not blow up the search, and a violation among them is still found', () => {
  const valid = checkHistory(contendedWithTimeouts(40, 30));
  assert.is(valid.result, 'valid', JSON.stringify(valid));
  const events = contendedWithTimeouts(40, 30);
  // The last round's read returns the first round's value: stale.
  events[events.length - 1] = { ...events[events.length - 1]!, value: 'a0' };
  const bad = checkHistory(events);
  assert.is(bad.result, 'invalid', JSON.stringify(bad).slice(0, 300));
  if (bad.result === 'invalid') assert.ok(bad.window.every((o) => !String(o.value).startsWith('lost-')), 'the window holds none of the unread timed-out writes');
});

test('a write that timed out but whose value a read returned still counts', () => {
  // The read of "late" is explained only by the unknown write; and once read, "late" must not be
  // followed by a read of the value it overwrote.
  const ok = checkHistory(h([0, 'invoke', 'w', 'a'], [0, 'ok', 'w'], [1, 'invoke', 'w', 'late'], [1, 'info', 'w'], [2, 'invoke', 'r'], [2, 'ok', 'r', 'late']));
  assert.is(ok.result, 'valid');
  const bad = checkHistory(h(
    [0, 'invoke', 'w', 'a'], [0, 'ok', 'w'], [1, 'invoke', 'w', 'late'], [1, 'info', 'w'],
    [2, 'invoke', 'r'], [2, 'ok', 'r', 'late'], [2, 'invoke', 'r'], [2, 'ok', 'r', 'a'],
  ));
  assert.is(bad.result, 'invalid');
});

/** Events of the compare-and-set register on address 0 (docs/rmw.md). */
const inv = (process: number, f: 'cas' | 'add' | 'read' | 'write', x: { expect?: string | null; value?: string; delta?: number } = {}): HistoryEvent =>
  ({ type: 'invoke', process, f, addr: 0, ...x }) as HistoryEvent;
const done = (process: number, f: 'cas' | 'add' | 'read' | 'write', type: 'ok' | 'fail' | 'info', x: { value?: string | null; refused?: true; current?: string | null } = {}): HistoryEvent =>
  ({ type, process, f, addr: 0, ...x }) as HistoryEvent;

test('cas register: a chain of swaps, a refusal that names the current value, and adds are valid', () => {
  const v = checkHistory([
    inv(0, 'cas', { expect: null, value: 'a' }), done(0, 'cas', 'ok'),
    inv(1, 'cas', { expect: null, value: 'b' }), done(1, 'cas', 'ok', { refused: true, current: 'a' }),
    inv(1, 'cas', { expect: 'a', value: '5' }), done(1, 'cas', 'ok'),
    inv(2, 'add', { delta: 3 }), done(2, 'add', 'ok', { value: '8' }),
    inv(0, 'read'), done(0, 'read', 'ok', { value: '8' }),
    inv(0, 'write', { value: 'x' }), done(0, 'write', 'ok'),
    inv(2, 'add', { delta: 1 }), done(2, 'add', 'ok', { refused: true, current: 'x' }),
  ]);
  assert.is(v.result, 'valid', JSON.stringify(v));
});

test('cas register: known-bad histories are caught', () => {
  const bad: [string, HistoryEvent[]][] = [
    ['two compare-and-sets from null both win (a lock held twice)', [
      inv(0, 'cas', { expect: null, value: 'p0' }), inv(1, 'cas', { expect: null, value: 'p1' }), done(0, 'cas', 'ok'), done(1, 'cas', 'ok'),
    ]],
    ['a lost increment: two adds of 1 from 0 both return 1', [
      inv(0, 'add', { delta: 1 }), inv(1, 'add', { delta: 1 }), done(0, 'add', 'ok', { value: '1' }), done(1, 'add', 'ok', { value: '1' }),
    ]],
    ['a refusal that names a value the register never held then', [
      inv(0, 'write', { value: 'a' }), done(0, 'write', 'ok'), inv(1, 'cas', { expect: 'b', value: 'c' }), done(1, 'cas', 'ok', { refused: true, current: null }),
    ]],
    ['a refusal although the expected value was there', [
      inv(0, 'write', { value: 'a' }), done(0, 'write', 'ok'), inv(1, 'cas', { expect: 'a', value: 'c' }), done(1, 'cas', 'ok', { refused: true, current: 'a' }),
    ]],
    ['a read that misses an acknowledged add', [
      inv(0, 'add', { delta: 2 }), done(0, 'add', 'ok', { value: '2' }), inv(1, 'read'), done(1, 'read', 'ok', { value: null }),
    ]],
    ['a swap acknowledged, then a read of the old value', [
      inv(0, 'write', { value: 'a' }), done(0, 'write', 'ok'), inv(0, 'cas', { expect: 'a', value: 'b' }), done(0, 'cas', 'ok'), inv(1, 'read'), done(1, 'read', 'ok', { value: 'a' }),
    ]],
    ['an add that reports a sum no order gives', [
      inv(0, 'add', { delta: 1 }), done(0, 'add', 'ok', { value: '1' }), inv(1, 'add', { delta: 5 }), done(1, 'add', 'ok', { value: '5' }),
    ]],
  ];
  for (const [what, events] of bad) assert.is(checkHistory(events).result, 'invalid', what);
});

test('cas register: unknown outcomes (info) may take effect at any time after their invocation, or never', () => {
  // An add whose outcome is unknown explains a later count; another never happened.
  const counted = checkHistory([
    inv(0, 'add', { delta: 1 }), done(0, 'add', 'info'),
    inv(1, 'add', { delta: 1 }), done(1, 'add', 'info'),
    inv(2, 'add', { delta: 1 }), done(2, 'add', 'ok', { value: '2' }),
    inv(2, 'read'), done(2, 'read', 'ok', { value: '2' }),
  ]);
  assert.is(counted.result, 'valid', JSON.stringify(counted));
  // A cas of unknown outcome that never matched, and a failed (definite) one, leave the value alone.
  const untouched = checkHistory([
    inv(0, 'write', { value: 'a' }), done(0, 'write', 'ok'),
    inv(1, 'cas', { expect: 'z', value: 'q' }), done(1, 'cas', 'info'),
    inv(2, 'cas', { expect: 'a', value: 'r' }), done(2, 'cas', 'fail'),
    inv(0, 'read'), done(0, 'read', 'ok', { value: 'a' }),
  ]);
  assert.is(untouched.result, 'valid', JSON.stringify(untouched));
  // But an unknown add cannot explain a count it could not reach, nor take effect before it was invoked.
  assert.is(checkHistory([
    inv(0, 'add', { delta: 1 }), done(0, 'add', 'info'), inv(1, 'read'), done(1, 'read', 'ok', { value: '2' }),
  ]).result, 'invalid');
  assert.is(checkHistory([
    inv(1, 'read'), done(1, 'read', 'ok', { value: '1' }), inv(0, 'add', { delta: 1 }), done(0, 'add', 'info'),
  ]).result, 'invalid');
  // A definite failure (fail) did not happen: its value cannot be read.
  assert.is(checkHistory([
    inv(0, 'cas', { expect: null, value: 'x' }), done(0, 'cas', 'fail'), inv(1, 'read'), done(1, 'read', 'ok', { value: 'x' }),
  ]).result, 'invalid');
});

test('parseHistory refuses malformed cas and add events, naming the line', () => {
  assert.throws(() => parseHistory('{"type":"invoke","process":0,"f":"cas","addr":0,"value":"a"}'), /line 1: a cas invoke needs expect/);
  assert.throws(() => parseHistory('{"type":"invoke","process":0,"f":"add","addr":0,"delta":1.5}'), /line 1: an add invoke needs an integer delta/);
  assert.throws(() => parseHistory('{"type":"invoke","process":0,"f":"add","addr":0,"delta":1}\n{"type":"ok","process":0,"f":"add","addr":0}'), /line 2: an ok add needs its new value/);
  assert.throws(() => parseHistory('{"type":"fail","process":0,"f":"cas","addr":0,"refused":true,"current":"a"}'), /line 1: refused: true goes with an ok/);
  assert.throws(() => parseHistory('{"type":"invoke","process":0,"f":"inc","addr":0}'), /f must be read, write, cas or add/);
});

test.run();
