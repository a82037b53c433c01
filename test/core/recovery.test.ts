import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recovery, recoverySourcesNeeded, type RegisterPage } from '../../src/core/recovery.js';

/** Wiped-dir recovery, event by event: pages in, effects out (no I/O, no timers). */
const test = suite('recovery (pure state machine)');
const M = ['a', 'b', 'c'];
const empty = (busy = false): RegisterPage => ({ initialized: true, items: [], next: null, busy, opDeadlineMs: 5_000 });
const uninitialised: RegisterPage = { initialized: false, items: [], next: null };
const item = (addr: number, seq: number) => ({ addr, tag: { seq, writer: 'w' }, value: `v${addr}.${seq}` });

test('N-Q+1 sources: 2 of 2 others for 3 members, 3 of 4 for 5, none for 1', () => {
  assert.is(recoverySourcesNeeded(3, 2), 2);
  assert.is(recoverySourcesNeeded(5, 3), 3);
  assert.is(recoverySourcesNeeded(1, 1), 0);
});

test('it arms the fence with its own deadline and probes every other member', () => {
  const r = new Recovery('a', M, 2, 5_000);
  assert.equal(r.start(), [
    { type: 'fence', deadlineMs: 5_000 },
    { type: 'fetch', from: 'b', after: null, pass: 'probe' },
    { type: 'fetch', from: 'c', after: null, pass: 'probe' },
  ]);
});

test('a new cluster: every other member uninitialised or empty and idle, done without waiting', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  assert.equal(r.onPage('b', uninitialised, 'probe'), []);
  assert.equal(r.onPage('c', empty(), 'probe'), [{ type: 'done', sources: ['b', 'c'], fenced: false }]);
  assert.ok(r.done);
});

test('a member with registers, or busy, or one that has not answered yet keeps the fence; the copy starts only after it', () => {
  for (const page of [{ ...empty(), items: [item(1, 1)] }, empty(true), { ...empty(), busy: undefined }]) {
    const r = new Recovery('a', M, 2, 5_000);
    r.start();
    assert.equal(r.onPage('b', page, 'probe'), []);
    assert.equal(r.onPage('c', empty(), 'probe'), [], 'not done: b could be coordinating a write that counted our lost ack');
    assert.not.ok(r.done);
    assert.equal(r.onFence(), [
      { type: 'fetch', from: 'b', after: null, pass: 'copy' },
      { type: 'fetch', from: 'c', after: null, pass: 'copy' },
    ]);
  }
});

test('the copy pages through each source, stores each page, and is done at N-Q+1 complete sources', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  r.onFence();
  assert.equal(r.onPage('b', { initialized: true, items: [item(1, 1), item(2, 1)], next: 2 }, 'copy'), [
    { type: 'store', items: [item(1, 1), item(2, 1)] },
    { type: 'fetch', from: 'b', after: 2, pass: 'copy' },
  ]);
  assert.equal(r.onPage('c', uninitialised, 'copy'), [], 'an uninitialised source counts, with nothing to give');
  assert.equal(r.onPage('b', { initialized: true, items: [item(3, 2)], next: null }, 'copy'), [
    { type: 'store', items: [item(3, 2)] },
    { type: 'done', sources: ['c', 'b'], fenced: true },
  ]);
});

test('a probe page that arrives after the fence is ignored: it was read before the fence', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  r.onFence();
  assert.equal(r.onPage('b', { initialized: true, items: [item(1, 1)], next: null }, 'probe'), []);
  assert.equal(r.onPage('c', empty(), 'probe'), []);
  assert.not.ok(r.done);
});

test('a member with a longer deadline moves the fence out; a shorter one does not', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  assert.equal(r.onPage('b', { ...empty(true), opDeadlineMs: 30_000 }, 'probe'), [{ type: 'fence', deadlineMs: 30_000 }]);
  assert.equal(r.onPage('c', { ...empty(true), opDeadlineMs: 1_000 }, 'probe'), []);
});

test('a cluster of one has no one to copy from', () => {
  assert.equal(new Recovery('a', ['a'], 1, 5_000).start(), [{ type: 'done', sources: [], fenced: false }]);
});

test('the recovery-without-fence mutation copies at once (what seed 1704 broke)', () => {
  const r = new Recovery('a', M, 2, 5_000, { recoveryWithoutFence: true });
  assert.equal(r.start(), [
    { type: 'fetch', from: 'b', after: null, pass: 'copy' },
    { type: 'fetch', from: 'c', after: null, pass: 'copy' },
  ]);
});

test.run();
