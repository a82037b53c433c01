import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB_FILE, SCHEMA_VERSION, SqliteStore } from '../../src/storage/sqlite-store.js';
import { tempDir } from '../helpers/cluster.js';

const test = suite('sqlite store (real SQLite files)');
let dir: string;
test.before.each(() => {
  dir = tempDir('shmem-store-');
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const item = (addr: number, seq: number, writer: string, value: string) => ({ addr, tag: { seq, writer }, value });

test('never-written addresses read as tag (0, "") and null', async () => {
  const s = new SqliteStore(dir);
  assert.equal(s.read([0, 5]), [{ tag: { seq: 0, writer: '' }, value: null }, { tag: { seq: 0, writer: '' }, value: null }]);
  await s.close();
});

test('putIfNewer keeps the greater tag and ignores stale or duplicate items', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 2, 'b', 'two-b')]);
  await s.putIfNewer([item(1, 2, 'a', 'two-a'), item(1, 1, 'z', 'one')]);
  assert.equal(s.read([1]), [{ tag: { seq: 2, writer: 'b' }, value: 'two-b' }]);
  await s.putIfNewer([item(1, 3, 'a', 'three')]);
  assert.equal(s.read([1])[0]!.value, 'three');
  await s.close();
});

test('acknowledged items survive close and reopen, with values intact', async () => {
  const s = new SqliteStore(dir);
  const unicode = 'héllo ☃ \u0000 "quoted"';
  await s.putIfNewer([item(0, 1, 'a', unicode), item(Number.MAX_SAFE_INTEGER, 1, 'a', '')]);
  await s.close();
  const again = new SqliteStore(dir);
  assert.equal(again.read([0, Number.MAX_SAFE_INTEGER]).map((v) => v.value), [unicode, '']);
  await again.close();
});

test('concurrent updates are grouped into one commit, and every caller is resolved', async () => {
  const s = new SqliteStore(dir);
  const before = s.stats().commits;
  await Promise.all(Array.from({ length: 50 }, (_, i) => s.putIfNewer([item(i, 1, 'a', `v${i}`)])));
  const after = s.stats();
  assert.is(after.commits - before, 1, 'one transaction for 50 concurrent updates');
  assert.is(after.lastBatchItems, 50);
  assert.is(after.addresses, 50);
  await s.close();
});

test('updates are not visible to reads until committed', async () => {
  const s = new SqliteStore(dir);
  const pending = s.putIfNewer([item(9, 1, 'a', 'x')]);
  assert.is(s.read([9])[0]!.value, null, 'not yet durable, not yet visible');
  await pending;
  assert.is(s.read([9])[0]!.value, 'x');
  await s.close();
});

test('the database uses WAL, synchronous FULL by default, and records its schema version', async () => {
  const s = new SqliteStore(dir);
  await s.close();
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('a database from a newer shmem is refused rather than misread', async () => {
  const s = new SqliteStore(dir);
  await s.close();
  const db = new Database(join(dir, DB_FILE));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => new SqliteStore(dir), /newer than this shmem/);
});

test('meta values persist', async () => {
  const s = new SqliteStore(dir);
  s.setMeta('node_id', 'abc');
  s.setMeta('node_id', 'def');
  await s.close();
  const again = new SqliteStore(dir);
  assert.is(again.getMeta('node_id'), 'def');
  assert.is(again.getMeta('missing'), undefined);
  await again.close();
});

test.run();
