import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTags } from '../../src/core/tag.js';
import { CoreNet, type Message } from '../helpers/core-net.js';

const test = suite('coordinator (ABD, pure)');
const M = ['a', 'b', 'c'];
const to = (...replicas: string[]) => (m: Message) => replicas.includes(m.replica);

test('a write queries a quorum, then updates a quorum with seq+1 and its writer id', () => {
  const net = new CoreNet(M);
  const op = net.write('a', 3, 'foo');
  net.deliverAll(to('a', 'b'));
  const out = net.outcome('a', op);
  assert.equal(out, { type: 'resolve', opId: op, result: { kind: 'write', addr: 3, tag: { seq: 1, writer: 'a.1' } } });
  assert.is(net.stored('a', 3).value, 'foo');
  assert.is(net.stored('b', 3).value, 'foo');
  assert.is(net.stored('c', 3).value, null, 'c was not needed for the quorum');
});

test('a read returns in one round (fast path) when the quorum agrees', () => {
  const net = new CoreNet(M);
  net.write('a', 3, 'foo');
  net.deliverAll();
  const op = net.read('b', 3);
  net.deliverAll(to('b', 'c'));
  const out = net.outcome('b', op);
  assert.ok(out?.type === 'resolve' && out.result.kind === 'read');
  assert.is(out.result.value, 'foo');
  assert.is(out.result.fastPath, true);
  assert.not.ok(net.inFlight.some((m) => m.kind === 'update'), 'no write-back was sent');
});

test('a read that sees disagreeing tags writes the newest value back to a quorum before returning', () => {
  const net = new CoreNet(M);
  // A write that reached only c (its coordinator crashed before the quorum).
  const w = net.write('c', 3, 'new');
  net.deliverAll((m) => m.kind === 'query' || m.kind === 'query-reply');
  net.deliverAll((m) => m.kind === 'update' && m.replica === 'c');
  net.drop(() => true);
  assert.is(net.outcome('c', w), undefined);

  const r = net.read('a', 3);
  net.deliverAll((m) => m.kind !== 'update' && m.replica !== 'b'); // phase 1 answered by a and c
  assert.is(net.outcome('a', r), undefined, 'does not return before the write-back');
  assert.ok(net.inFlight.some((m) => m.kind === 'update' && m.item.value === 'new'), 'write-back sent');
  net.deliverAll(to('a', 'b'));
  const out = net.outcome('a', r);
  assert.ok(out?.type === 'resolve' && out.result.kind === 'read');
  assert.is(out.result.value, 'new');
  assert.is(out.result.fastPath, false);
  // Now a majority (a, b, c) holds it, so no later read can miss it.
  assert.is(net.stored('b', 3).value, 'new');
  assert.is(net.stored('a', 3).value, 'new');
});

test('after a read returns a value, a later read through any quorum returns it too (no new-old inversion)', () => {
  const net = new CoreNet(M);
  net.write('c', 3, 'new');
  net.deliverAll((m) => m.kind === 'query' || m.kind === 'query-reply');
  net.deliverAll((m) => m.kind === 'update' && m.replica === 'c');
  net.drop(() => true);
  const first = net.read('a', 3);
  net.deliverAll(to('a', 'c'));
  assert.is((net.outcome('a', first) as any).result.value, 'new');
  for (const quorum of [['a', 'b'], ['b', 'c'], ['a', 'c']]) {
    const later = net.read('b', 3);
    net.deliverAll(to(...quorum));
    net.drop(() => true);
    assert.is((net.outcome('b', later) as any).result.value, 'new', `quorum ${quorum}`);
  }
});

test('replicas acknowledge stale updates (without storing them), so a slow write still completes', () => {
  const net = new CoreNet(M);
  const slow = net.write('a', 3, 'old');
  net.deliverAll((m) => m.opId === slow && (m.kind === 'query' || m.kind === 'query-reply')); // will send (1, a.1)
  const fast = net.write('b', 3, 'newer');
  net.deliverAll((m) => m.opId === fast); // (1, b.1) reaches every replica first
  for (const m of M) assert.equal(net.stored(m, 3), { tag: { seq: 1, writer: 'b.1' }, value: 'newer' });
  net.deliverAll(); // the slow write's updates arrive late: stale everywhere
  assert.equal(net.outcome('a', slow)?.type, 'resolve');
  assert.equal(net.outcome('b', fast)?.type, 'resolve');
  for (const m of M) assert.equal(net.stored(m, 3), { tag: { seq: 1, writer: 'b.1' }, value: 'newer' }, 'stale update not stored');
});

test('concurrent writers through different coordinators get distinct tags and replicas converge', () => {
  const net = new CoreNet(M);
  const ops = M.map((m, i) => [m, net.write(m, 7, `v${i}`)] as const);
  // Interleave: all queries first, then all updates.
  net.deliverAll((m) => m.kind === 'query' || m.kind === 'query-reply');
  net.deliverAll();
  const tags = ops.map(([m, op]) => (net.outcome(m, op) as any).result.tag);
  assert.is(new Set(tags.map((t) => `${t.seq}@${t.writer}`)).size, 3);
  const max = tags.reduce((x, y) => (compareTags(x, y) >= 0 ? x : y));
  for (const m of M) assert.equal(net.stored(m, 7).tag, max);
  const r = net.read('c', 7);
  net.deliverAll();
  assert.equal((net.outcome('c', r) as any).result.tag, max);
});

test('two writes to one address through the same coordinator are serialised (never the same tag twice)', () => {
  const net = new CoreNet(M);
  const w1 = net.write('a', 1, 'x');
  const w2 = net.write('a', 1, 'y');
  assert.is(net.inFlight.filter((m) => m.opId === w2).length, 0, 'second write waits');
  net.deliverAll();
  const t1 = (net.outcome('a', w1) as any).result.tag;
  const t2 = (net.outcome('a', w2) as any).result.tag;
  assert.ok(compareTags(t2, t1) > 0);
  assert.is(net.stored('b', 1).value, 'y');
});

test('duplicated answers from one member do not make a quorum', () => {
  const net = new CoreNet(M);
  const op = net.read('a', 1);
  net.deliverAll(to('b'));
  const coord = net.coordinators.get('a')!;
  const again = coord.onQueryReply(op, 'b', { tag: { seq: 0, writer: '' }, value: null });
  assert.equal(again, []);
  assert.is(net.outcome('a', op), undefined);
});

test('an op that misses its deadline fails with quorum_unavailable and returns no value', () => {
  const net = new CoreNet(M);
  const op = net.read('a', 1);
  net.deliverAll(to('a'));
  net.deadline('a', op);
  const out = net.outcome('a', op);
  assert.is(out?.type, 'reject');
  assert.is((out as any).failure.code, 'quorum_unavailable');
  net.deliverAll();
  assert.is(net.outcome('a', op), out, 'late answers change nothing');
});

test('a queued write that misses its deadline fails and lets the next one start', () => {
  const net = new CoreNet(M);
  const w1 = net.write('a', 1, 'x');
  const w2 = net.write('a', 1, 'y');
  const w3 = net.write('a', 1, 'z');
  net.deadline('a', w2);
  assert.is((net.outcome('a', w2) as any).failure.code, 'quorum_unavailable');
  net.deliverAll();
  assert.is(net.outcome('a', w1)?.type, 'resolve');
  assert.is(net.outcome('a', w3)?.type, 'resolve');
  assert.is(net.stored('c', 1).value, 'z');
});

test('refusals by members with another member set fail the op once no quorum is possible', () => {
  const net = new CoreNet(M);
  const op = net.write('a', 1, 'x');
  net.refuse('a', op, 'query', 'b');
  assert.is(net.outcome('a', op), undefined);
  net.refuse('a', op, 'query', 'c');
  assert.is((net.outcome('a', op) as any).failure.code, 'membership_mismatch');
});

test('a cluster of one is its own quorum', () => {
  const net = new CoreNet(['solo']);
  const w = net.write('solo', 0, 'alone');
  net.deliverAll();
  assert.is(net.outcome('solo', w)?.type, 'resolve');
  const r = net.read('solo', 0);
  net.deliverAll();
  assert.is((net.outcome('solo', r) as any).result.value, 'alone');
});

test.run();
