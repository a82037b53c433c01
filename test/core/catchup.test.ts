import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PeerCatchUp, type ChangeFeedPage } from '../../src/core/catchup.js';

const test = suite('catch-up from one peer (pure state machine)');
const tag = (seq: number) => ({ seq, writer: 'aa0000a1.1' });
const items = (...addrs: number[]) => addrs.map((addr) => ({ addr, tag: tag(1), value: null }));
const feed = (p: Partial<ChangeFeedPage>): ChangeFeedPage => ({ initialized: true, items: [], next: null, log: 'L', head: 0, oldestAgeMs: null, ...p });

test('an unknown position is a full comparison: the head first, then the tags by address, then the head is kept', () => {
  const c = new PeerCatchUp('p', undefined);
  assert.equal(c.next(), { kind: 'changes', since: 0, log: undefined, limit: 1 });
  const head = c.onChanges(feed({ head: 30, items: items(9), next: 5, oldestAgeMs: 900 }), 0);
  assert.equal(head, { compare: [], save: undefined, more: true }, 'the head answer compares nothing');
  c.applied(head, 0);
  assert.equal(c.next(), { kind: 'tags', after: null });
  const p1 = c.onTags({ items: items(1, 2), next: 2 }, 1);
  assert.equal(p1.save, undefined, 'no position before every address was compared');
  c.applied(p1, 1);
  assert.equal(c.next(), { kind: 'tags', after: 2 });
  const p2 = c.onTags({ items: items(3), next: null }, 2);
  assert.equal(p2.save, { log: 'L', position: 30 }, 'the head seen at the start');
  c.applied(p2, 0);
  assert.is(c.comparing, false);
  assert.equal(c.next(), { kind: 'changes', since: 30, log: 'L', limit: 'page' });
  assert.equal([c.lag(2).compared, c.lag(2).fixed], [3, 1]);
});

test('a page of the comparison whose values were not stored is asked again: the cursor moves only in applied() (seed 873)', () => {
  const c = new PeerCatchUp('p', undefined);
  c.applied(c.onChanges(feed({ head: 8 }), 0), 0);
  c.onTags({ items: items(1, 2), next: 2 }, 1); // fetching or storing its values failed: never applied
  assert.equal(c.next(), { kind: 'tags', after: null }, 'the same page again');
  c.applied(c.onTags({ items: items(1, 2), next: 2 }, 2), 0);
  assert.equal(c.next(), { kind: 'tags', after: 2 });
  assert.is(c.lag(2).compared, 2);
});

test('incremental pages move the position to their last change, or the head at the end; lag is head minus position', () => {
  const c = new PeerCatchUp('p', { log: 'L', position: 10 });
  const s1 = c.onChanges(feed({ items: items(4, 5), next: 12, head: 20, oldestAgeMs: 3000 }), 100);
  assert.equal([s1.save, s1.more], [{ log: 'L', position: 12 }, true]);
  c.applied(s1, 2);
  assert.equal([c.lag(100).changes, c.lag(100).seconds], [8, 3]);
  assert.is(c.lag(1100).seconds, 4, 'the age grows while nothing new is heard');
  const s2 = c.onChanges(feed({ items: items(6), next: null, head: 20, oldestAgeMs: 10 }), 200);
  assert.equal([s2.save, s2.more], [{ log: 'L', position: 20 }, false]);
  c.applied(s2, 0);
  assert.equal([c.lag(200).changes, c.lag(200).seconds], [0, 0]);
  const idle = c.onChanges(feed({ head: 20 }), 300);
  assert.is(idle.save, undefined, 'nothing new: no position to write');
});

test("another log id at the peer (wiped, lost its WAL, restored) starts a full comparison and drops that page's items", () => {
  const c = new PeerCatchUp('p', { log: 'L', position: 500 });
  const s = c.onChanges(feed({ log: 'M', head: 40, items: items(1) }), 0);
  assert.equal(s, { compare: [], save: undefined, more: true });
  assert.is(c.comparing, true);
  assert.equal(c.next(), { kind: 'changes', since: 500, log: 'L', limit: 1 });
});

test('a peer that is not initialised (recovering) is asked again later, and nothing is kept', () => {
  const c = new PeerCatchUp('p', { log: 'L', position: 5 });
  assert.equal(c.onChanges({ initialized: false, items: [], next: null }, 0), { compare: [], save: undefined, more: false });
  assert.equal(c.position, { log: 'L', position: 5 });
  assert.is(c.lag(0).changes, null, 'unknown until it answers');
});

test('compareNow (shmem repair) runs a full comparison on a known position and tells its figures at the end', () => {
  const c = new PeerCatchUp('p', { log: 'L', position: 7 });
  let told: [number, number] | undefined;
  c.compareNow((compared, fixed) => (told = [compared, fixed]));
  c.applied(c.onChanges(feed({ head: 9 }), 0), 0);
  const end = c.onTags({ items: items(1, 2, 3), next: null }, 1);
  c.applied(end, 2);
  assert.equal(told, [3, 2]);
  assert.equal(c.position, { log: 'L', position: 9 });
});

test.run();
