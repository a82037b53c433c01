import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigStore, describeState, toConfigState } from '../../src/membership/config-store.js';
import type { ConfigState, Configuration } from '../../src/membership/configuration.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { tempDir } from '../helpers/cluster.js';

/** The durable membership state, in a real data dir (SQLite), reopened as a restart would. */
const test = suite('membership state on disk (real SQLite)');
let dir: string;
test.before.each(() => {
  dir = tempDir('shmem-config-');
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const cfg = (epoch: number, ...ids: string[]): Configuration => ({ epoch, members: ids.map((id, i) => ({ id, address: `127.0.0.1:${4000 + i}` })) });
const stable = (c: Configuration): ConfigState => ({ kind: 'stable', current: c });

async function withStore<T>(run: (s: ConfigStore, raw: SqliteStore) => T): Promise<T> {
  const raw = new SqliteStore(dir);
  try {
    return run(new ConfigStore(raw, dir), raw);
  } finally {
    await raw.close();
  }
}

test('the state and the acceptor survive a restart; a new data dir has neither', async () => {
  await withStore((s) => {
    assert.is(s.state(), undefined);
    assert.equal(s.acceptor(), { slot: 0, promised: null, accepted: null });
    s.saveState({ kind: 'joint', current: cfg(1, 'a', 'b', 'c'), next: cfg(2, 'a', 'b', 'c', 'd') });
    s.saveAcceptor({ slot: 2, promised: { round: 3, node: 'b' }, accepted: { ballot: { round: 3, node: 'b' }, value: cfg(2, 'a', 'b', 'c', 'd') } });
  });
  await withStore((s) => {
    assert.is(describeState(s.state()!), 'epoch 1 -> 2 (a, b, c -> a, b, c, d)');
    assert.equal(s.acceptor().promised, { round: 3, node: 'b' });
  });
});

test('the state only moves forward, and never holds two member sets for one epoch', async () => {
  await withStore((s) => {
    s.saveState({ kind: 'joint', current: cfg(1, 'a', 'b', 'c'), next: cfg(2, 'a', 'b', 'c', 'd') });
    assert.throws(() => s.saveState(stable(cfg(1, 'a', 'b', 'c'))), /refusing to go back from epoch 1 -> 2/);
    assert.throws(() => s.saveState(stable(cfg(2, 'a', 'b'))), /a second configuration for an epoch already stored/);
    s.saveState(stable(cfg(2, 'a', 'b', 'c', 'd')));
    assert.is(describeState(s.state()!), 'epoch 2 (a, b, c, d)');
    assert.throws(() => s.saveState(stable(cfg(3, 'a', 'a'))), /invalid configuration: node id a is listed twice/);
    s.saveAcceptor({ slot: 3, promised: null, accepted: null });
    assert.throws(() => s.saveAcceptor({ slot: 2, promised: null, accepted: null }), /back from slot 3 to 2/);
  });
});

test('a damaged or hostile stored state is refused with config_invalid naming the data dir and the problem', async () => {
  const cases: [string, RegExp][] = [
    ['{not json', /not JSON/],
    ['"x".repeat', /not JSON/],
    [JSON.stringify({ kind: 'stable', current: { epoch: 1, members: [{ id: 'a', address: 'x' }, { id: 'a', address: 'y' }] } }), /node id a is listed twice/],
    [JSON.stringify({ kind: 'joint', current: { epoch: 1, members: [{ id: 'a', address: 'x' }] }, next: { epoch: 5, members: [{ id: 'a', address: 'x' }] } }), /from epoch 1 to 2, not 5/],
    [JSON.stringify({ kind: 'stable', current: { epoch: 1, members: [{ id: 7, address: 'x' }] } }), /string id and address/],
    [JSON.stringify({ __proto__: { kind: 'stable' }, current: {} }), /kind must be/],
    [`"${'x'.repeat(70_000)}"`, /70002 characters/],
  ];
  for (const [text, why] of cases) {
    await withStore((s, raw) => {
      raw.setMeta('config_state', text);
      assert.throws(() => s.state(), (e: Error & { code?: string }) => e.code === 'config_invalid' && e.message.startsWith(dir) && why.test(e.message), `${text.slice(0, 60)} -> ${why}`);
    });
  }
  await withStore((s, raw) => {
    raw.setMeta('config_acceptor', JSON.stringify({ slot: 2, promised: null, accepted: { ballot: { round: 1, node: 'a' }, value: { epoch: 2, members: [] } } }));
    assert.throws(() => s.acceptor(), /stored Paxos acceptor state is damaged: a configuration needs at least one member/);
  });
});

test('the same parser reads states from untrusted JSON', () => {
  assert.equal(toConfigState({ kind: 'stable', current: cfg(1, 'a') }), stable(cfg(1, 'a')));
  assert.match(toConfigState([]) as string, /kind must be/);
});

test.run();
