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

test.run();
