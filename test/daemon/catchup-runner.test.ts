import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangeFeedPage, TagPage } from '../../src/core/catchup.js';
import type { Addr, QueryAnswer, RegisterItem } from '../../src/core/types.js';
import { CATCHUP_PACE, CatchUpRunner } from '../../src/daemon/catchup-runner.js';
import { jsonLogger } from '../../src/log/logger.js';
import { MemoryDisk, MemoryStore } from '../../src/storage/memory-store.js';
import type { MemberLink } from '../../src/transport/peer-link.js';
import { World, type Scope } from '../sim/world.js';

/**
 * The catch-up runner's pace on virtual time (docs/catch-up.md): one page at a time on the
 * node across its peers, the pause after a page (9x its time while clients use the node, 1x
 * when none does), and what the lane saves: a value the first peer brought is not fetched
 * again from the second.
 */
const test = suite('catch-up runner: one lane per node, paced by the foreground');

const silent = jsonLogger('error', {}, { write: () => true } as unknown as NodeJS.WritableStream);
const REQUEST_MS = 4;
const COUNT = 5_000;

interface Request { readonly peer: string; readonly kind: string; readonly start: number; end: number; readonly items: number }

/** A peer's replica API over a MemoryStore, each answer REQUEST_MS of virtual time later; every request is recorded. */
function peerLink(member: string, store: MemoryStore, clock: Scope, log: Request[]): MemberLink {
  const answer = <T>(kind: string, items: number, make: () => T): Promise<T> => {
    const r: Request = { peer: member, kind, start: clock.now(), end: Number.NaN, items };
    log.push(r);
    return new Promise((resolve) => clock.setTimeout(() => {
      r.end = clock.now();
      resolve(make());
    }, REQUEST_MS));
  };
  return {
    member,
    changes: (since, limit): Promise<ChangeFeedPage> => answer('changes', limit, () => {
      const p = store.changes(since, limit, null);
      return { initialized: true, items: p.items, next: p.next, log: p.log, head: p.head, oldestAgeMs: p.oldestAgeMs };
    }),
    tags: (after): Promise<TagPage> => answer('tags', 1000, () => {
      const entries = store.tags({ after }, 1000);
      return { items: entries.map((e) => ({ addr: e.addr, tag: e.tag, value: null })), next: entries.length === 1000 ? entries.at(-1)!.addr : null };
    }),
    rmw: () => Promise.reject(new Error('catch-up sends no rmw')),
    acceptors: () => Promise.reject(new Error('catch-up copies no acceptor rows')),
    mergeAcceptors: () => Promise.reject(new Error('catch-up copies no acceptor rows')),
    query: (addrs: readonly Addr[], withValues): Promise<QueryAnswer[]> => answer('query', addrs.length, () => store.query(addrs, { values: withValues, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true }) as QueryAnswer[]),
    update: () => Promise.reject(new Error('not used')),
    ping: () => Promise.reject(new Error('not used')),
    registers: () => Promise.reject(new Error('not used')),
    close: () => undefined,
  };
}

/** Two peers holding the same COUNT registers, an empty node pulling from both; `busy`: a client operation starts on it every millisecond. */
async function catchUp(busy: boolean) {
  const world = new World();
  const clock = world.scope('node');
  const immediate = { commitDelayMs: () => 0 };
  const items: RegisterItem[] = Array.from({ length: COUNT }, (_, addr) => ({ addr, tag: { seq: 1, writer: 'w.1' }, value: `v${addr}` }));
  const peers = await Promise.all(['a', 'b'].map(async (name) => {
    const store = new MemoryStore(new MemoryDisk(), world.scope(name), immediate);
    const stored = store.putIfNewer(items);
    await world.run();
    await stored;
    return store;
  }));
  const local = new MemoryStore(new MemoryDisk(), clock, immediate);
  const requests: Request[] = [];
  const runner = new CatchUpRunner(local, peers.map((s, i) => peerLink(['a', 'b'][i]!, s, clock, requests)), silent, clock);
  runner.foreground = busy ? clientLoad(clock) : () => 0;
  runner.start();
  await world.run({ until: () => runner.lag().every((l) => l.changes === 0) && local.tags({ after: null }, COUNT + 1).length === COUNT, endMs: 600_000 });
  const took = world.now;
  runner.stop();
  return { requests, took, local, lag: runner.lag() };
}

/** The pages of work: from a changes/tags request to the end of the last request it led to, per peer in order. */
/** A client operation every virtual millisecond, as the foreground count catch-up paces itself by. */
function clientLoad(clock: Scope): () => number {
  let ops = 0;
  const tick = (): void => {
    ops += 1;
    clock.setTimeout(tick, 1);
  };
  tick();
  return () => ops;
}

function pages(requests: readonly Request[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const r of requests) {
    if (r.kind === 'query') out.at(-1)!.end = r.end;
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

for (const busy of [true, false]) {
  test(`${busy ? 'clients busy' : 'no client'}: every register arrives, one page at a time across both peers, ${busy ? 9 : 1}x a page's time between pages`, async () => {
    const r = await catchUp(busy);
    assert.is(r.local.tags({ after: null }, COUNT + 1).length, COUNT, 'every register caught up');
    for (const l of r.lag) assert.is(l.changes, 0, `no lag left on ${l.peer}`);
    const sorted = [...r.requests].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sorted.length; i++) {
      const [p, q] = [sorted[i - 1]!, sorted[i]!];
      assert.ok(q.start >= p.end, `requests never overlap: ${p.peer} ${p.kind} [${p.start}, ${p.end}] and ${q.peer} ${q.kind} at ${q.start}`);
    }
    const factor = busy ? CATCHUP_PACE.busyFactor : CATCHUP_PACE.quietFactor;
    const ps = pages(sorted);
    let paced = 0;
    for (let i = 1; i < ps.length; i++) {
      const [p, q] = [ps[i - 1]!, ps[i]!];
      const pause = q.start - p.end;
      assert.ok(pause >= factor * (p.end - p.start) - 1e-6 || pause >= CATCHUP_PACE.idleMs, `page ${i} started ${pause} ms after one of ${p.end - p.start} ms`);
      if (pause < CATCHUP_PACE.idleMs) paced += 1;
    }
    assert.ok(paced >= COUNT / 1000, `the pages with work were paced (${paced})`);
    const fetched = r.requests.filter((q) => q.kind === 'query').reduce((n, q) => n + q.items, 0);
    assert.is(fetched, COUNT, 'each value fetched once: the second peer\'s pages find what the first stored');
  });
}

test('a page that hung on the network (8 s) holds the next one back at most pauseMsMax, not 9 times as long (simulation seed 121)', async () => {
  const world = new World();
  const clock = world.scope('node');
  const immediate = { commitDelayMs: () => 0 };
  const items: RegisterItem[] = Array.from({ length: 3_000 }, (_, addr) => ({ addr, tag: { seq: 1, writer: 'w.1' }, value: `v${addr}` }));
  const peer = new MemoryStore(new MemoryDisk(), world.scope('a'), immediate);
  const stored = peer.putIfNewer(items);
  await world.run();
  await stored;
  const requests: Request[] = [];
  const link = peerLink('a', peer, clock, requests);
  let first = true;
  const hanging: MemberLink = {
    ...link,
    changes: (...args) => {
      if (!first) return link.changes(...args);
      first = false;
      return new Promise((resolve, reject) => clock.setTimeout(() => link.changes(...args).then(resolve, reject), 8_000));
    },
  };
  const local = new MemoryStore(new MemoryDisk(), clock, immediate);
  const runner = new CatchUpRunner(local, [hanging], silent, clock);
  runner.foreground = clientLoad(clock);
  runner.start();
  await world.run({ until: () => local.tags({ after: null }, 3_001).length === 3_000, endMs: 600_000 });
  runner.stop();
  const ps = pages([...requests].sort((x, y) => x.start - y.start));
  assert.ok(ps[0]!.start >= 8_000, 'the first page hung (the request reached the peer 8 s late)');
  assert.ok(ps[1]!.start - ps[0]!.end <= CATCHUP_PACE.pauseMsMax + 1e-6, `the next page waited ${ps[1]!.start - ps[0]!.end} ms (9 x 8 s before the bound)`);
  assert.ok(world.now < 8_000 * CATCHUP_PACE.busyFactor, `caught up in ${world.now} ms`);
});

test('a node whose clients are busy takes longer to catch up than an idle one (it yields to them)', async () => {
  const [busy, idle] = [await catchUp(true), await catchUp(false)];
  assert.ok(busy.took > idle.took * 2, `busy ${busy.took} ms, idle ${idle.took} ms`);
});

test('a replica that every write reaches itself writes its catch-up positions every positionSaveMs, not every page, and all of them when it stops', async () => {
  const world = new World();
  const clock = world.scope('node');
  const immediate = { commitDelayMs: () => 0 };
  const stores = ['a', 'b', 'node'].map((name) => new MemoryStore(new MemoryDisk(), world.scope(name), immediate));
  const [a, b, local] = stores as [MemoryStore, MemoryStore, MemoryStore];
  const requests: Request[] = [];
  const runner = new CatchUpRunner(local, [peerLink('a', a, clock, requests), peerLink('b', b, clock, requests)], silent, clock);
  // A write every 20 ms, stored by all three replicas (the update phase reached everyone).
  let seq = 0;
  let writing = true;
  const write = (): void => {
    if (!writing) return;
    seq += 1;
    for (const st of stores) void st.putIfNewer([{ addr: seq % 100, tag: { seq, writer: 'w.1' }, value: `v${seq}` }]);
    clock.setTimeout(write, 20);
  };
  write();
  runner.start();
  const seconds = 60;
  await world.run({ endMs: seconds * 1000 });
  const pagesAsked = requests.filter((r) => r.kind === 'changes').length;
  const positionCommits = local.stats().commits - seq;
  const perPeer = Math.ceil((seconds * 1000) / CATCHUP_PACE.positionSaveMs) + 1;
  assert.ok(pagesAsked > 4 * 2 * perPeer, `the feed was polled all along (${pagesAsked} pages)`);
  assert.ok(positionCommits <= 2 * perPeer, `${positionCommits} position commits for ${pagesAsked} pages (at most ${2 * perPeer})`);
  assert.ok(positionCommits >= 2, 'positions are written');
  assert.is(requests.filter((r) => r.kind === 'query').length, 0, 'nothing fetched: every write was already here');
  for (const pos of local.positions()) {
    const head = (pos.peer === 'a' ? a : b).changeLog().head;
    assert.ok(pos.position <= head && head - pos.position <= (CATCHUP_PACE.positionSaveMs / 20) + 300, `${pos.peer}: position on disk ${pos.position}, head ${head}`);
  }
  // The writes stop; the pullers reach the heads within a poll, and a clean stop writes what the last save deferred.
  writing = false;
  await world.run({ endMs: world.now + 1_000 });
  runner.stop();
  await world.run({ endMs: world.now + 100 });
  for (const pos of local.positions()) assert.is(pos.position, (pos.peer === 'a' ? a : b).changeLog().head, `${pos.peer}: a stopped runner leaves its position at the head`);
});

test.run();
