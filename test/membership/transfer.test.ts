import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTags } from '../../src/core/tag.js';
import type { RegisterItem } from '../../src/core/types.js';
import { Transfer, type TransferEffect } from '../../src/membership/transfer.js';
import { Random } from '../sim/random.js';

const test = suite('state transfer (pure)');
const item = (addr: number, seq: number, value = `v${addr}.${seq}`): RegisterItem => ({ addr, tag: { seq, writer: 'w' }, value });

test('two of three sources, pages that end at different addresses: each range is written once both have covered it', () => {
  const t = new Transfer(['a', 'b', 'c'], 2, ['a', 'b', 'c', 'd'], 3);
  assert.equal(t.start(), [{ type: 'fetch', from: 'a', after: null }, { type: 'fetch', from: 'b', after: null }, { type: 'fetch', from: 'c', after: null }]);
  assert.equal(t.onPage('a', { initialized: true, items: [item(1, 1), item(5, 2)], next: 5 }), [], 'only a has answered');
  const w = t.onPage('b', { initialized: true, items: [item(1, 3), item(2, 1), item(9, 1)], next: 9 });
  assert.equal(w, [
    { type: 'write', items: [item(1, 3), item(2, 1), item(5, 2)], upTo: 5 },
    { type: 'fetch', from: 'a', after: 5 },
  ], 'up to 5 both have covered; the larger tag of address 1; 9 waits');
  assert.equal(t.onStored('d', 5), []);
  assert.equal(t.onStored('a', 5), []);
  assert.equal(t.onStored('b', 5), [{ type: 'progress', cursor: 5, registers: 3 }]);
  const end = t.onPage('a', { initialized: true, items: [item(7, 1)], next: null });
  assert.equal(end, [{ type: 'write', items: [item(7, 1), item(9, 1)], upTo: 9 }, { type: 'fetch', from: 'b', after: 9 }]);
  t.onStored('a', 9);
  t.onStored('b', 9);
  t.onStored('c', 9);
  assert.equal(t.onPage('b', { initialized: true, items: [], next: null }), [{ type: 'write', items: [], upTo: null }]);
  t.onStored('a', null);
  t.onStored('b', null);
  assert.equal(t.onStored('c', null), [{ type: 'done', registers: 5 }]);
  assert.ok(t.done);
});

test('an uninitialised member is no source; a transfer resumed from a cursor copies only what is after it', () => {
  const t = new Transfer(['a', 'b'], 2, ['x'], 1, 10);
  assert.equal(t.start(), [{ type: 'fetch', from: 'a', after: 10 }, { type: 'fetch', from: 'b', after: 10 }]);
  t.onPage('a', { initialized: true, items: [item(11, 1)], next: null });
  assert.equal(t.onPage('b', { initialized: false, items: [], next: null }), []);
  assert.not.ok(t.done);
});

/**
 * Random sources where every address has a "completed" pair on exactly S-K+1 of the S sources
 * (so every K of them include it) and older pairs elsewhere; random page sizes, delivery and
 * acknowledgement order. Returns what the targets stored.
 */
function randomTransfer(seed: number): { stored: Map<number, RegisterItem>; completed: Map<number, RegisterItem>; progress: number[] } {
  const rng = new Random(seed);
  const S = rng.pick([3, 5]);
  const K = Math.floor(S / 2) + 1;
  const sources = Array.from({ length: S }, (_, i) => `s${i}`);
  const data = new Map(sources.map((s) => [s, new Map<number, RegisterItem>()]));
  const completed = new Map<number, RegisterItem>();
  for (let addr = 0; addr < rng.int(0, 60); addr++) {
    if (rng.chance(0.3)) continue;
    const seq = rng.int(2, 9);
    completed.set(addr, item(addr, seq));
    const holders = [...sources].sort(() => rng.next() - 0.5).slice(0, S - K + 1);
    for (const s of sources) {
      if (holders.includes(s)) data.get(s)!.set(addr, item(addr, seq));
      else if (rng.chance(0.5)) data.get(s)!.set(addr, item(addr, rng.int(1, seq - 1)));
    }
  }
  const page = (s: string, after: number | null) => {
    const all = [...data.get(s)!.values()].sort((a, b) => a.addr - b.addr).filter((i) => after === null || i.addr > after);
    const items = all.slice(0, rng.int(1, 5));
    return { initialized: true, items, next: items.length < all.length ? items[items.length - 1]!.addr : null };
  };
  const targets = ['t0', 't1', 't2'];
  const stored = new Map<number, RegisterItem>();
  const progress: number[] = [];
  const t = new Transfer(sources, K, targets, 2);
  const pending: (() => TransferEffect[])[] = [];
  const run = (effects: TransferEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'fetch') pending.push(() => t.onPage(e.from, page(e.from, e.after)));
      else if (e.type === 'write') {
        for (const to of targets) pending.push(() => {
          for (const i of e.items) {
            const prev = stored.get(i.addr);
            if (!prev || compareTags(i.tag, prev.tag) > 0) stored.set(i.addr, i);
          }
          return t.onStored(to, e.upTo);
        });
      } else if (e.type === 'progress') progress.push(e.cursor);
    }
  };
  run(t.start());
  for (let steps = 0; pending.length > 0 && steps < 100_000; steps++) run(pending.splice(rng.int(0, pending.length - 1), 1)[0]!());
  assert.ok(t.done, `seed ${seed}: the transfer finished`);
  return { stored, completed, progress };
}

test('500 random transfers: every completed pair reaches the targets, and progress only moves forward', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const { stored, completed, progress } = randomTransfer(seed);
    for (const [addr, want] of completed) {
      const got = stored.get(addr);
      assert.ok(got && compareTags(got.tag, want.tag) >= 0, `seed ${seed}: address ${addr} transferred ${JSON.stringify(got?.tag)}, completed ${JSON.stringify(want.tag)}`);
    }
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! > progress[i - 1]!, `seed ${seed}: progress ${progress.join(',')}`);
  }
});

test.run();
