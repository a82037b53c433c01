import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Recovery, recoverySourcesNeeded, sourceGroup, type RegisterPage } from '../../src/core/recovery.js';

/** Wiped-dir recovery, event by event: pages in, effects out (no I/O, no timers). */
const test = suite('recovery (pure state machine)');
const M = ['a', 'b', 'c'];
const empty = (busy = false): RegisterPage => ({ initialized: true, items: [], next: null, busy, opDeadlineMs: 5_000 });
/** A member that is recovering itself, in a cluster that (as far as it knows) has never served. */
const uninitialised: RegisterPage = { initialized: false, served: false, items: [], next: null };
/** A member that is recovering itself and knows the cluster has served: its data is gone. */
const wiped: RegisterPage = { initialized: false, served: true, items: [], next: null };
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
    assert.equal(r.onPage('b', page, 'probe'), page.items.length > 0 ? [{ type: 'served' }] : [], 'registers are evidence that the cluster served; operations in flight are not');
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
    { type: 'served' },
    { type: 'store', items: [item(1, 1), item(2, 1)] },
    { type: 'fetch', from: 'b', after: 2, pass: 'copy' },
  ]);
  assert.equal(r.onPage('b', { initialized: true, items: [item(3, 2)], next: null }, 'copy'), [{ type: 'store', items: [item(3, 2)] }]);
  assert.equal(r.onPage('c', { initialized: true, items: [], next: null }, 'copy'), [{ type: 'done', sources: ['b', 'c'], fenced: true }]);
});

test('in the copy, a member that is recovering itself is no source: it is asked again later, and counts once it answers as a replica', () => {
  const r = new Recovery('a', M, 2, 5_000, {}, true);
  r.start();
  r.onFence();
  assert.equal(r.onPage('b', { initialized: true, items: [item(1, 1)], next: null }, 'copy'), [{ type: 'store', items: [item(1, 1)] }]);
  assert.equal(r.onPage('c', wiped, 'copy'), [{ type: 'fetch', from: 'c', after: null, pass: 'copy', later: true }]);
  assert.not.ok(r.done, 'c holds none of the writes it acknowledged');
  assert.equal(r.onPage('c', { initialized: true, items: [item(2, 1)], next: null }, 'copy'), [
    { type: 'store', items: [item(2, 1)] },
    { type: 'done', sources: ['b', 'c'], fenced: true },
  ]);
});

test('a new cluster whose first clients reach one member at once: the others wait out the fence, then count each other as empty', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  assert.equal(r.onPage('b', empty(true), 'probe'), [], 'b finished as a new cluster and coordinates the first writes: not quiet');
  assert.equal(r.onPage('c', uninitialised, 'probe'), []);
  r.onFence();
  assert.equal(r.onPage('c', uninitialised, 'copy'), [], 'c recovers too, in a cluster nobody has seen serve: nothing to give');
  assert.equal(r.onPage('b', { ...empty(), next: null }, 'copy'), [{ type: 'done', sources: ['c', 'b'], fenced: true }]);
});

test('a recovering member counted as empty is revoked the moment evidence arrives that the cluster served', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  r.onFence();
  assert.equal(r.onPage('c', uninitialised, 'copy'), []);
  assert.equal(r.onPage('b', { initialized: true, items: [item(1, 1)], next: null }, 'copy'), [
    { type: 'served' },
    { type: 'fetch', from: 'c', after: null, pass: 'copy', later: true },
    { type: 'store', items: [item(1, 1)] },
  ], 'b holds registers: c may have held acknowledged writes before it was wiped');
  assert.not.ok(r.done);
  assert.ok(r.beyondBudget, 'c is recovering, and only b can be a source');
});

test('a recovering member that knows the cluster served is not "nothing to lose" in the probe: no new cluster', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  assert.equal(r.onPage('b', wiped, 'probe'), [{ type: 'served' }], 'the evidence is kept durably');
  assert.equal(r.onPage('c', empty(), 'probe'), []);
  assert.not.ok(r.done);
  assert.ok(r.served);
});

test('once this member knows the cluster served, a recovering member is never quiet, whatever it says of itself', () => {
  for (const order of [['b', 'c'], ['c', 'b']] as const) {
    const r = new Recovery('a', M, 2, 5_000);
    r.start();
    const pages: Record<string, RegisterPage> = { b: uninitialised, c: { ...empty(), items: [item(1, 1)] } };
    for (const m of order) r.onPage(m, pages[m]!, 'probe');
    assert.not.ok(r.done, `order ${order.join(',')}`);
  }
  const known = new Recovery('a', M, 2, 5_000, {}, true);
  known.start();
  assert.equal(known.onPage('b', uninitialised, 'probe'), []);
  assert.equal(known.onPage('c', uninitialised, 'probe'), []);
  assert.not.ok(known.done, 'its own data dir said the cluster served (an epoch past 1, registers, the kept mark)');
});

test('the issue-30 run: B wiped while A and C recover after the cluster served; B never calls the cluster new, and all say they are beyond the budget', () => {
  // A was wiped while B still had data: it learned the cluster served from B's registers.
  const a = new Recovery('a', M, 2, 5_000);
  a.start();
  assert.equal(a.onPage('b', { ...empty(), items: [item(1, 7)] }, 'probe'), [{ type: 'served' }]);
  // C was wiped next: A's page says it is recovering in a cluster that served.
  const c = new Recovery('c', M, 2, 5_000);
  c.start();
  c.onPage('a', { ...wiped }, 'probe');
  // B is wiped last: both others are recovering, and both know the cluster served.
  const b = new Recovery('b', M, 2, 5_000);
  b.start();
  b.onPage('a', wiped, 'probe');
  b.onPage('c', wiped, 'probe');
  assert.not.ok(b.done, 'not a new cluster');
  b.onFence();
  assert.equal(b.onPage('a', wiped, 'copy'), [{ type: 'fetch', from: 'a', after: null, pass: 'copy', later: true }]);
  b.onPage('c', wiped, 'copy');
  assert.not.ok(b.done, 'no source: nothing copied, nothing answered');
  assert.ok(b.beyondBudget);
  assert.equal([...b.state().recoveringOthers].sort(), ['a', 'c']);
  // A, for its part, finds B recovering too: with one other left it can never copy 2.
  a.onFence();
  a.onPage('b', wiped, 'copy');
  assert.ok(a.beyondBudget);
});

test('a new cluster whose members are still starting is not beyond the budget: recovering members that never served lost nothing', () => {
  const r = new Recovery('a', M, 2, 5_000);
  r.start();
  r.onPage('b', uninitialised, 'probe');
  assert.not.ok(r.beyondBudget);
  assert.type(r.acceptLoss(), 'string', 'nothing to accept');
});

test('beyond the budget exactly when R >= Q: one other recovering of 3 members, two of 5', () => {
  const three = new Recovery('a', M, 2, 5_000, {}, true);
  three.start();
  assert.not.ok(three.beyondBudget);
  three.onPage('b', wiped, 'probe');
  assert.ok(three.beyondBudget, 'R = 2 of 3');
  three.onPage('b', { ...empty(), items: [item(1, 1)] }, 'probe');
  const five = new Recovery('a', ['a', 'b', 'c', 'd', 'e'], 3, 5_000, {}, true);
  five.start();
  five.onPage('b', wiped, 'probe');
  assert.not.ok(five.beyondBudget, 'R = 2 of 5: three others can still be sources');
  five.onPage('c', wiped, 'probe');
  assert.ok(five.beyondBudget, 'R = 3 of 5');
  five.onFence();
  five.onPage('c', { ...empty(), items: [item(1, 1)] }, 'copy');
  assert.not.ok(five.beyondBudget, 'c answers as a replica again');
});

test('during a change of the member set, enough sources of each set: a member that joined (no transfer yet) does not stand in for the old set (seed 6467, --reconfigure)', () => {
  // Epoch 1 {a, b, c} -> 2 {a, b, c, d}: a and b wiped in a row, c holds the old writes, d joined and holds nothing yet.
  const groups = [sourceGroup('a', ['a', 'b', 'c']), sourceGroup('a', ['a', 'b', 'c', 'd'])];
  assert.equal(groups, [{ members: ['b', 'c'], needed: 2 }, { members: ['b', 'c', 'd'], needed: 2 }]);
  const r = new Recovery('a', groups, 0, 5_000, {}, true);
  r.start();
  r.onFence();
  r.onPage('b', wiped, 'copy');
  r.onPage('c', { initialized: true, items: [item(1, 4)], next: null }, 'copy');
  assert.equal(r.onPage('d', { initialized: true, items: [], next: null }, 'copy'), [], 'c and d would be 2 of the 4 members: not enough of the old set');
  assert.not.ok(r.done);
  assert.ok(r.beyondBudget, 'the old set has lost the data of a and b: 2 of 3');
  // A flat count over the four (the rule before) would have been done with c and d.
  const flat = new Recovery('a', ['a', 'b', 'c', 'd'], 3, 5_000, {}, true);
  flat.start();
  flat.onFence();
  flat.onPage('b', wiped, 'copy');
  flat.onPage('c', { initialized: true, items: [item(1, 4)], next: null }, 'copy');
  assert.equal(flat.onPage('d', { initialized: true, items: [], next: null }, 'copy').at(-1), { type: 'done', sources: ['c', 'd'], fenced: true });
});

test('a member set this node is not in asks N-Q+1 of all its members', () => {
  assert.equal(sourceGroup('e', ['a', 'b', 'c']), { members: ['a', 'b', 'c'], needed: 2 });
});

test('accepting the loss: refused unless beyond the budget; then a fresh round copies the members with data and gives up the rest', () => {
  const r = new Recovery('a', ['a', 'b', 'c', 'd', 'e'], 3, 5_000, {}, true);
  r.start();
  r.onPage('b', wiped, 'probe');
  assert.type(r.acceptLoss(), 'string', 'R = 2 of 5: it can still finish by itself');
  r.onPage('c', wiped, 'probe');
  r.onFence();
  const effects = r.acceptLoss();
  assert.equal(effects, ['b', 'c', 'd', 'e'].map((from) => ({ type: 'fetch', from, after: null, pass: 'accept' })));
  assert.is(r.phase, 'accept');
  assert.equal(r.onPage('d', { ...empty(), items: [item(1, 1)], next: 1 }, 'copy'), [], 'a page of the copy pass no longer counts');
  assert.equal(r.onPage('d', { ...empty(), items: [item(1, 1)], next: 1 }, 'accept'), [
    { type: 'store', items: [item(1, 1)] }, { type: 'fetch', from: 'd', after: 1, pass: 'accept' },
  ]);
  assert.equal(r.onPage('b', wiped, 'accept'), []);
  assert.equal(r.onUnreachable('e', 'accept'), []);
  assert.equal(r.onPage('d', { ...empty(), items: [item(2, 1)], next: null }, 'accept'), [{ type: 'store', items: [item(2, 1)] }]);
  assert.equal(r.onPage('c', { ...empty(), items: [], next: null }, 'accept'), [
    { type: 'done', sources: ['d', 'c'], fenced: true, lossAccepted: true, gaveUp: ['b', 'e'] },
  ]);
  assert.type(r.acceptLoss(), 'string', 'done: nothing to accept');
});

test('the recovering-counts-as-empty mutation is the old rule: a recovering member is quiet in the probe and a complete source in the copy', () => {
  const r = new Recovery('a', M, 2, 5_000, { recoveringCountsAsEmpty: true }, true);
  r.start();
  r.onPage('b', wiped, 'probe');
  assert.equal(r.onPage('c', { ...empty(), items: [item(1, 1)] }, 'probe'), []);
  r.onFence();
  assert.equal(r.onPage('b', wiped, 'copy'), []);
  assert.equal(r.onPage('c', { ...empty(), items: [item(1, 1)] }, 'copy'), [
    { type: 'store', items: [item(1, 1)] }, { type: 'done', sources: ['b', 'c'], fenced: true },
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
