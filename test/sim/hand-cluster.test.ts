import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTags } from '../../src/core/tag.js';
import type { Tag } from '../../src/core/types.js';
import { both, from, HandCluster, requests, to, type OpHandle } from './cluster.js';

/**
 * ABD scenarios step by step, on real nodes (runtime, channels, replica, store) over a
 * network that moves only when the test delivers. A node's own replica answers without the
 * network, as in production, so "deliver to b" gives the coordinator a's quorum {a, b}.
 */
const test = suite('real nodes on a hand-driven network');
const M = ['a', 'b', 'c'];

function ok<R>(op: OpHandle<R>): R {
  assert.ok(op.outcome, 'the operation finished');
  if (!op.outcome.ok) assert.unreachable(`the operation failed: ${op.outcome.code} ${op.outcome.message}`);
  return (op.outcome as { result: R }).result;
}

test('a write queries a quorum, then updates a quorum with seq+1 and its writer id', async () => {
  const c = new HandCluster(M);
  const w = c.write('a', 3, 'foo');
  await c.deliver(to('b'));
  assert.equal(ok(w), { kind: 'write', addr: 3, tag: { seq: 1, writer: 'a.1' } });
  assert.is(c.stored('a', 3).value, 'foo');
  assert.is(c.stored('b', 3).value, 'foo');
  assert.is(c.stored('c', 3).value, null, 'c was not needed for the quorum');
});

test('a read returns in one round (fast path) when the quorum agrees, sending no write-back', async () => {
  const c = new HandCluster(M);
  c.write('a', 3, 'foo');
  await c.deliver();
  const r = c.read('b', 3);
  await c.deliver(to('c'));
  const result = ok(r);
  assert.is(result.value, 'foo');
  assert.is(result.fastPath, true);
  assert.not.ok(c.net.held.some((m) => m.kind === 'update'), 'no write-back was sent');
});

test('a read that sees disagreeing tags writes the newest value back to a quorum before returning', async () => {
  const c = new HandCluster(M);
  // A write through c that reached only c's own replica (its updates to a and b were lost).
  const w = c.write('c', 3, 'new');
  await c.deliver(requests('query'));
  c.drop(requests('update'));
  assert.is(w.outcome, undefined);

  const r = c.read('a', 3);
  await c.deliver(both(requests('query'), to('c'))); // phase 1 answered by a (own) and c
  assert.is(r.outcome, undefined, 'does not return before the write-back');
  assert.ok(c.net.held.some((m) => m.kind === 'update' && m.items?.[0]?.value === 'new'), 'write-back sent');
  await c.deliver(to('b'));
  const result = ok(r);
  assert.is(result.value, 'new');
  assert.is(result.fastPath, false);
  // Now a majority (a, b, c) holds it, so no later read can miss it.
  assert.is(c.stored('b', 3).value, 'new');
  assert.is(c.stored('a', 3).value, 'new');
});

test('after a read returns a value, a later read through any coordinator and quorum returns it too (no new-old inversion)', async () => {
  const c = new HandCluster(M);
  c.write('c', 3, 'new');
  await c.deliver(requests('query'));
  c.drop(requests('update'));
  const first = c.read('a', 3);
  await c.deliver(to('c'));
  assert.is(ok(first).value, 'new');
  c.drop();
  for (const via of M) {
    for (const other of M.filter((m) => m !== via)) {
      const later = c.read(via, 3);
      await c.deliver(to(other));
      c.drop();
      assert.is(ok(later).value, 'new', `read through ${via} with ${other}`);
    }
  }
});

test('replicas acknowledge stale updates without storing them, so a slow write still completes', async () => {
  const c = new HandCluster(M);
  const slow = c.write('a', 3, 'old');
  await c.deliver(both(from('a'), requests('query'))); // a stores (1, a.1) itself; its updates to b and c wait
  const fast = c.write('b', 3, 'newer');
  await c.deliver(both(from('b'), to('c'))); // (1, b.1) on b and c, queried from b and c only
  assert.equal(c.stored('c', 3), { tag: { seq: 1, writer: 'b.1' }, value: 'newer' });
  await c.deliver(); // the slow write's updates arrive late: stale on b and c; b's update replaces a's
  assert.equal(ok(slow).tag, { seq: 1, writer: 'a.1' });
  assert.equal(ok(fast).tag, { seq: 1, writer: 'b.1' });
  for (const m of M) assert.equal(c.stored(m, 3), { tag: { seq: 1, writer: 'b.1' }, value: 'newer' }, `${m} keeps the newer write`);
});

test('concurrent writers through different coordinators get distinct tags and the replicas converge on the largest', async () => {
  const c = new HandCluster(M);
  const ops = M.map((m, i) => c.write(m, 7, `v${i}`));
  // Interleaved: every query first, then every update.
  await c.deliver(requests('query'));
  await c.deliver();
  const tags = ops.map((op) => ok(op).tag);
  assert.is(new Set(tags.map((t) => `${t.seq}@${t.writer}`)).size, 3);
  const max = tags.reduce((x: Tag, y: Tag) => (compareTags(x, y) >= 0 ? x : y));
  for (const m of M) assert.equal(c.stored(m, 7).tag, max);
  const r = c.read('c', 7);
  await c.deliver();
  assert.equal(ok(r).tag, max);
});

test('two writes to one address through the same coordinator are serialised (never the same tag twice)', async () => {
  const c = new HandCluster(M);
  const w1 = c.write('a', 1, 'x');
  const w2 = c.write('a', 1, 'y');
  await c.deliver(() => false); // let the channels send what they batched
  const queries = c.net.held.filter((m) => m.kind === 'query');
  assert.equal(queries.map((m) => [m.to, m.addrs]), [['b', [1]], ['c', [1]]], 'the second write waits for the first');
  await c.deliver();
  assert.ok(compareTags(ok(w2).tag, ok(w1).tag) > 0);
  assert.is(c.stored('b', 1).value, 'y');
});

test('an op that misses its deadline fails with quorum_unavailable; late answers change nothing', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000 });
  const r = c.read('a', 1);
  await c.advance(1_000);
  assert.is(r.outcome?.ok, false);
  assert.is((r.outcome as { code: string }).code, 'quorum_unavailable');
  const before = r.outcome;
  await c.deliver();
  assert.is(r.outcome, before);
});

test('a write that misses its deadline fails and lets the write queued behind it start', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000 });
  const w1 = c.write('a', 1, 'x');
  await c.advance(500);
  const w2 = c.write('a', 1, 'y'); // queued behind w1
  await c.advance(500);
  assert.match((w1.outcome as { message: string }).message, /no quorum of 2 before the deadline \(1\/3 answered the query phase\)/);
  assert.is((w1.outcome as { code: string }).code, 'quorum_unavailable', 'failed before its update: definitely not done');
  assert.is(w2.outcome, undefined);
  await c.deliver();
  ok(w2);
  assert.is(c.stored('c', 1).value, 'y');
});

test('a write after one that failed past its update gets a larger tag, so one tag never holds two values (seed 8320)', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000 });
  c.fullDisks.add('a'); // the coordinator's own replica cannot commit: it needs both others
  const first = c.write('a', 3, 'one');
  await c.deliver(requests('query'));
  await c.advance(1_000); // its updates to b and c are still on the wire: it fails at the deadline
  assert.is(first.outcome?.ok, false);
  const second = c.write('a', 3, 'two');
  await c.deliver(requests('query')); // b and c have not seen 'one' yet
  const tags = c.net.held.filter((m) => m.kind === 'update').map((m) => ({ value: m.items![0]!.value, tag: m.items![0]!.tag as Tag }));
  const one = tags.find((t) => t.value === 'one')!.tag;
  const two = tags.find((t) => t.value === 'two')!.tag;
  assert.ok(compareTags(two, one) > 0, `the second write's tag ${JSON.stringify(two)} is above the failed one's ${JSON.stringify(one)}`);
  // Whatever order the updates land in, b and c end with the same pair: the second write's.
  await c.deliver(both(requests('update'), to('c')));
  await c.deliver();
  assert.ok(second.outcome?.ok, 'the second write succeeded');
  assert.equal(c.stored('b', 3), c.stored('c', 3));
  assert.is(c.stored('b', 3).value, 'two');
});

test('a write that fails after sending its update says outcome_unknown, and it may indeed take effect later', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000 });
  c.fullDisks.add('a'); // the coordinator's own replica cannot commit: it needs both others
  const w = c.write('a', 4, 'late');
  await c.deliver(requests('query'));
  await c.advance(1_000); // its updates are still on the wire at the deadline
  assert.is(w.outcome?.ok, false);
  assert.is((w.outcome as { code: string }).code, 'outcome_unknown');
  assert.match((w.outcome as { message: string }).message, /update was sent, so it may or may not take effect/);
  await c.deliver(); // the updates land after all
  const r = c.read('b', 4);
  await c.deliver();
  assert.is(ok(r).value, 'late', 'a client told "did not happen" would now read a value it never saw written');
});

test('with the mutation definite-after-update, the same failure says quorum_unavailable (what the checker must catch)', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000, mutations: { definiteAfterUpdate: true } });
  c.fullDisks.add('a');
  const w = c.write('a', 4, 'late');
  await c.deliver(requests('query'));
  await c.advance(1_000);
  assert.is((w.outcome as { code: string }).code, 'quorum_unavailable');
});

test('with the mutation reuse-failed-write-tags, the same steps leave two values under one tag on the replicas (what the test above rules out)', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000, mutations: { reuseFailedWriteTags: true } });
  c.fullDisks.add('a');
  const first = c.write('a', 3, 'one');
  await c.deliver(requests('query'));
  await c.advance(1_000);
  assert.is(first.outcome?.ok, false);
  c.write('a', 3, 'two');
  await c.deliver(requests('query'));
  // The failed write's update reaches b first, the second one's reaches c first.
  const held = c.net.held.filter((m) => m.kind === 'update');
  await c.deliver((m) => held.includes(m) && ((m.items![0]!.value === 'one' && m.to === 'b') || (m.items![0]!.value === 'two' && m.to === 'c')));
  await c.deliver();
  const [b, cc] = [c.stored('b', 3), c.stored('c', 3)];
  assert.equal(b.tag, cc.tag, 'one tag');
  assert.is.not(b.value, cc.value, 'two values under it');
});

test('a quorum that completes after the deadline (the coordinator was paused) is not answered ok: outcome_unknown', async () => {
  const c = new HandCluster(M, { opDeadlineMs: 1_000 });
  const w = c.write('a', 3, 'late');
  await c.deliver(requests('query'));
  c.procs.get('a')!.scope.stalledUntil = c.world.now + 2_000; // SIGSTOP: b's ack waits, then the deadline timer too
  await c.deliver(to('b'));
  assert.is(w.outcome, undefined, 'nothing runs in a paused process');
  await c.advance(2_000);
  assert.ok(w.outcome && !w.outcome.ok, 'failed');
  assert.is((w.outcome as { code: string }).code, 'outcome_unknown', (w.outcome as { message: string }).message);
  assert.match((w.outcome as { message: string }).message, /after the deadline of 1000 ms/);
  assert.is(c.stored('b', 3).value, 'late', 'the write did land: its outcome is unknown to the client');
});

test('members that refuse this node (another member set) fail the op once no quorum is possible', async () => {
  const c = new HandCluster(M);
  c.refuse('b', 'another member set');
  const w = c.write('a', 1, 'x');
  await c.deliver(to('b'));
  assert.is(w.outcome, undefined, 'c may still answer');
  c.refuse('c', 'another member set');
  await c.deliver();
  assert.is((w.outcome as { code: string }).code, 'membership_mismatch');
  assert.match((w.outcome as { message: string }).message, /b: .*another member set/);
});

test('a cluster of one is its own quorum', async () => {
  const c = new HandCluster(['solo']);
  const w = c.write('solo', 0, 'alone');
  await c.deliver();
  ok(w);
  const r = c.read('solo', 0);
  await c.deliver();
  assert.is(ok(r).value, 'alone');
});

test.run();
