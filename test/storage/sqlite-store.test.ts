import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ValueWant } from '../../src/core/types.js';
import { CHANGE_LOG_TUNING, DB_FILE, SCHEMA_VERSION, SqliteStore } from '../../src/storage/sqlite-store.js';
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
const ALL: ValueWant = { values: true, budgetBytes: Number.MAX_SAFE_INTEGER, oversize: true };
const TAGS: ValueWant = { values: false, budgetBytes: 0, oversize: false };
/** The stored pairs of `addrs` with every value (what a read's local query sees). */
const read = (s: SqliteStore, addrs: number[]) => s.query(addrs, ALL);

test('never-written addresses read as tag (0, "") and null', async () => {
  const s = new SqliteStore(dir);
  assert.equal(read(s, [0, 5]), [{ tag: { seq: 0, writer: '' }, value: null }, { tag: { seq: 0, writer: '' }, value: null }]);
  await s.close();
});

test('putIfNewer keeps the greater tag and ignores stale or duplicate items', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 2, 'b', 'two-b')]);
  await s.putIfNewer([item(1, 2, 'a', 'two-a'), item(1, 1, 'z', 'one')]);
  assert.equal(read(s, [1]), [{ tag: { seq: 2, writer: 'b' }, value: 'two-b' }]);
  await s.putIfNewer([item(1, 3, 'a', 'three')]);
  assert.equal((read(s, [1])[0] as { value: string }).value, 'three');
  await s.close();
});

test('acknowledged items survive close and reopen, with values intact', async () => {
  const s = new SqliteStore(dir);
  const unicode = 'héllo ☃ \u0000 "quoted"';
  await s.putIfNewer([item(0, 1, 'a', unicode), item(Number.MAX_SAFE_INTEGER, 1, 'a', '')]);
  await s.close();
  const again = new SqliteStore(dir);
  assert.equal(read(again, [0, Number.MAX_SAFE_INTEGER]).map((v) => (v as { value: string | null }).value), [unicode, '']);
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
  assert.is((read(s, [9])[0] as { value: string | null }).value, null, 'not yet durable, not yet visible');
  await pending;
  assert.is((read(s, [9])[0] as { value: string | null }).value, 'x');
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

/** Overwrites the first occurrence of `from` in the closed database file with `to` (same length). */
function damageFile(file: string, from: string, to: string): void {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from(from));
  assert.ok(at >= 0, `${from} is in ${file}`);
  Buffer.from(to).copy(bytes, at);
  writeFileSync(file, bytes);
}

test('a value damaged on disk is never returned: the address answers its tag and "lost", is marked durably, and pages refuse it', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 1, 'a', 'precious-value-0001'), item(2, 1, 'a', 'neighbour')]);
  await s.close();
  damageFile(join(dir, DB_FILE), 'precious-value-0001', 'precious-value-9999');
  const again = new SqliteStore(dir);
  const damage: number[] = [];
  again.onDamage = (addr) => damage.push(addr);
  assert.equal(read(again, [1, 2]), [{ tag: { seq: 1, writer: 'a' }, lost: 'damaged' }, { tag: { seq: 1, writer: 'a' }, value: 'neighbour' }]);
  assert.equal(damage, [1]);
  assert.is(again.stats().damaged, 1);
  assert.equal(again.query([1], TAGS), [{ tag: { seq: 1, writer: 'a' }, lost: 'damaged' }], 'a tags-only query says so too: a read must not count on its value');
  assert.equal(again.tags({ after: null }, 10), [{ addr: 1, tag: { seq: 1, writer: 'a' }, damaged: true }, { addr: 2, tag: { seq: 1, writer: 'a' } }]);
  assert.throws(() => again.page(null, 10, 1 << 20), (e: Error) => e.name === 'RegisterDamagedError' && /address 1 .*checksum/.test(e.message));
  await again.close();
  const third = new SqliteStore(dir);
  assert.equal(third.damagedAddrs(10), [1], 'the mark survives a restart');
  assert.equal(read(third, [1]), [{ tag: { seq: 1, writer: 'a' }, lost: 'damaged' }]);
  await third.close();
});

test('a damaged value is healed by the next update it stores (the same tag or a larger one), never by an older one', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 4, 'a', 'precious-value-0001'), item(2, 4, 'a', 'precious-value-0002')]);
  await s.close();
  damageFile(join(dir, DB_FILE), 'precious-value-0001', 'precious-value-9999');
  damageFile(join(dir, DB_FILE), 'precious-value-0002', 'precious-value-8888');
  const again = new SqliteStore(dir);
  read(again, [1, 2]);
  assert.is(again.stats().damaged, 2);
  await again.putIfNewer([item(1, 3, 'b', 'older'), item(2, 4, 'a', 'precious-value-0002')]);
  assert.equal(read(again, [1, 2]), [{ tag: { seq: 4, writer: 'a' }, lost: 'damaged' }, { tag: { seq: 4, writer: 'a' }, value: 'precious-value-0002' }],
    'an older pair is not stored and heals nothing; the same tag rewrites the value');
  await again.putIfNewer([item(1, 5, 'b', 'newer')]);
  assert.equal(read(again, [1]), [{ tag: { seq: 5, writer: 'b' }, value: 'newer' }]);
  assert.is(again.stats().damaged, 0);
  await again.close();
  const third = new SqliteStore(dir);
  assert.equal(third.damagedAddrs(10), [], 'the marks were lifted in the commits that healed them');
  await third.close();
});

test('a version-4 damage mark is read as a lost tag (the old rule): unavailable until repaired', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 1, 'a', 'v')]);
  await s.close();
  const db = new Database(join(dir, DB_FILE));
  db.exec('ALTER TABLE damaged DROP COLUMN tag_lost; ALTER TABLE registers DROP COLUMN rmwc; DROP TABLE acceptors; INSERT INTO damaged (addr) VALUES (1);');
  db.pragma('user_version = 4');
  db.close();
  const again = new SqliteStore(dir);
  assert.equal(read(again, [1]), [{ unavailable: 'damaged' }]);
  assert.is((again as unknown as { db: Database.Database }).db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  await again.close();
});

test('carstamps: rmwc is stored, ordered and checksummed; a version-5 database opens with rmwc 0 and its checksums intact', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 2, 'a', 'plain'), item(2, 2, 'a', 'two')]);
  await s.close();
  // Back to schema 5, as a data dir of the version before compare-and-set holds it.
  let db = new Database(join(dir, DB_FILE));
  db.exec('ALTER TABLE registers DROP COLUMN rmwc; DROP TABLE acceptors;');
  db.pragma('user_version = 5');
  db.close();
  const again = new SqliteStore(dir);
  assert.equal(read(again, [1, 2]), [{ tag: { seq: 2, writer: 'a' }, value: 'plain' }, { tag: { seq: 2, writer: 'a' }, value: 'two' }]);
  await again.putIfNewer([{ addr: 1, tag: { seq: 2, writer: 'a', rmwc: 1 }, value: 'rmw' }]);
  await again.putIfNewer([{ addr: 1, tag: { seq: 2, writer: 'a' }, value: 'older' }]);
  assert.equal(read(again, [1]), [{ tag: { seq: 2, writer: 'a', rmwc: 1 }, value: 'rmw' }], 'rmwc 1 is above rmwc 0 of the same seq and writer');
  await again.putIfNewer([{ addr: 1, tag: { seq: 2, writer: 'b' }, value: 'later write' }]);
  assert.equal(read(again, [1]), [{ tag: { seq: 2, writer: 'b' }, value: 'later write' }], 'a write with a larger writer sorts after the rmw');
  await again.putIfNewer([{ addr: 2, tag: { seq: 2, writer: 'a', rmwc: 3 }, value: 'three' }]);
  assert.equal(again.stats().highestTag, { seq: 2, writer: 'b' });
  await again.close();
  // rmwc is covered by the row checksum: rewriting it on disk is caught.
  db = new Database(join(dir, DB_FILE));
  db.prepare('UPDATE registers SET rmwc = 7 WHERE addr = 2').run();
  db.close();
  const third = new SqliteStore(dir);
  assert.equal(read(third, [2]), [{ unavailable: 'damaged' }]);
  await third.close();
});

test('a damaged tag is caught too, and an update replaces a damaged register but the mark stays until repaired', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 7, 'writer-to-damage', 'v')]);
  await s.close();
  damageFile(join(dir, DB_FILE), 'writer-to-damage', 'writer-to-dXmage');
  const again = new SqliteStore(dir);
  assert.equal(again.query([1], TAGS), [{ unavailable: 'damaged' }], 'a tags-only query verifies the tag fields');
  await again.putIfNewer([item(1, 2, 'b', 'after')]); // lower than the lost tag 7: stored, the old row's tag is unknown
  assert.equal(read(again, [1]), [{ unavailable: 'damaged' }], 'still not answered: a repair must merge the other members first');
  again.clearDamaged([1]);
  assert.equal(read(again, [1]), [{ tag: { seq: 2, writer: 'b' }, value: 'after' }]);
  await again.close();
});

test('a register whose tag fields were damaged still follows the replica rule once rewritten: a repair\'s older pair never replaces a newer update', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 1, 'writer-to-damage', 'precious-value-0001')]);
  await s.close();
  damageFile(join(dir, DB_FILE), 'writer-to-damage', 'writer-to-dXmage');
  const again = new SqliteStore(dir);
  assert.equal(read(again, [1]), [{ unavailable: 'damaged' }]);
  // A newer update lands while the repair is reading the other members...
  await again.putIfNewer([item(1, 3, 'b', 'newer')]);
  // ...then the repair stores the pair it read before that update: it must not win.
  await again.putIfNewer([item(1, 1, 'writer-to-damage', 'precious-value-0001')]);
  again.clearDamaged([1]);
  assert.equal(read(again, [1]), [{ tag: { seq: 3, writer: 'b' }, value: 'newer' }]);
  await again.close();
});

test('tags-only queries carry no values; a budget defers what does not fit, and oversize lets the first through', async () => {
  const s = new SqliteStore(dir);
  const big = 'x'.repeat(3000);
  await s.putIfNewer([item(1, 1, 'a', 'small'), item(2, 1, 'a', big), item(3, 1, 'a', big)]);
  assert.equal(s.query([1, 2], TAGS), [{ tag: { seq: 1, writer: 'a' }, value: null }, { tag: { seq: 1, writer: 'a' }, value: null }]);
  assert.equal(s.query([1, 2, 3], { values: true, budgetBytes: 4000, oversize: false }), [
    { tag: { seq: 1, writer: 'a' }, value: 'small' }, { tag: { seq: 1, writer: 'a' }, value: big }, { tag: { seq: 1, writer: 'a' }, deferredBytes: 3000 },
  ]);
  assert.equal(s.query([3, 2], { values: true, budgetBytes: 10, oversize: true }), [
    { tag: { seq: 1, writer: 'a' }, value: big }, { tag: { seq: 1, writer: 'a' }, deferredBytes: 3000 },
  ]);
  await s.close();
});

test('pages hold at most their value bytes (at least one register) and say where to continue', async () => {
  const s = new SqliteStore(dir);
  const v = 'y'.repeat(1000);
  await s.putIfNewer(Array.from({ length: 10 }, (_, i) => item(i, 1, 'a', v)));
  const first = s.page(null, 100, 3500);
  assert.equal(first.items.map((i) => i.addr), [0, 1, 2]);
  assert.equal(s.tags({ before: 5 }, 2).map((t) => t.addr), [3, 4], 'the last ones before an address, in order');
  assert.equal(s.tags({ before: null }, 3).map((t) => t.addr), [7, 8, 9], 'the last ones of all');
  assert.is(first.next, 2);
  const tiny = s.page(2, 100, 10);
  assert.equal(tiny.items.map((i) => i.addr), [3], 'one register even when it alone is over the bound');
  const last = s.page(6, 100, 1 << 20);
  assert.equal(last.items.map((i) => i.addr), [7, 8, 9]);
  assert.is(last.next, null);
  await s.close();
});

test('one transaction writes at most the commit bound of values; the rest commits next, every caller resolved', async () => {
  const s = new SqliteStore(dir);
  const five = 'z'.repeat(5 * 1024 * 1024);
  const before = s.stats().commits;
  await Promise.all([s.putIfNewer([item(1, 1, 'a', five)]), s.putIfNewer([item(2, 1, 'a', five)]), s.putIfNewer([item(3, 1, 'a', 'small')])]);
  assert.is(s.stats().commits - before, 2, '5 MiB, then 5 MiB + a small one');
  assert.is(s.stats().addresses, 3);
  await s.close();
});

test('a full database refuses updates with storage_unavailable, reports it once, and resumes when there is room', async () => {
  const s = new SqliteStore(dir);
  const changes: boolean[] = [];
  s.onHealthChange = (h) => changes.push(h.ok);
  await s.putIfNewer([item(1, 1, 'a', 'fits')]);
  // SQLite answers SQLITE_FULL at max_page_count exactly as on a full disk.
  const db = (s as unknown as { db: Database.Database }).db;
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const err = await s.putIfNewer([item(2, 1, 'a', 'w'.repeat(200_000))]).then(() => undefined, (e: Error & { code?: string }) => e);
  assert.is(err?.name, 'StorageUnavailableError');
  assert.match(err!.message, /disk is full .*SQLITE_FULL/);
  await s.putIfNewer([item(3, 1, 'a', 'w'.repeat(200_000))]).catch(() => undefined);
  assert.equal(changes, [false], 'reported once, not per failed commit');
  assert.is(s.health().ok, false);
  db.pragma('max_page_count = 1073741823');
  await s.putIfNewer([item(2, 1, 'a', 'w'.repeat(200_000))]);
  assert.equal(changes, [false, true]);
  assert.equal(read(s, [1]), [{ tag: { seq: 1, writer: 'a' }, value: 'fits' }], 'nothing acknowledged was lost');
  await s.close();
});

test('a version-1 database is migrated: checksums computed, values intact', async () => {
  const db = new Database(join(dir, DB_FILE));
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE registers (addr INTEGER PRIMARY KEY, seq INTEGER NOT NULL, writer TEXT NOT NULL, value TEXT) STRICT;
    INSERT INTO registers VALUES (4, 3, 'w', 'héllo'), (5, 1, 'w', '');`);
  db.pragma('user_version = 1');
  db.close();
  const s = new SqliteStore(dir);
  assert.equal(read(s, [4, 5]), [{ tag: { seq: 3, writer: 'w' }, value: 'héllo' }, { tag: { seq: 1, writer: 'w' }, value: '' }]);
  assert.is(s.stats().damaged, 0);
  assert.is(s.quickCheck(), null);
  // Schema 3: the rows already there get the changes 1..n in address order.
  assert.equal(s.changes(0, 10, null).items.map((i) => i.addr), [4, 5]);
  assert.is(s.changeLog().head, 2);
  await s.close();
});

test('every stored row gets the next change number; a row written again moves to the end; stale items stamp nothing', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 1, 'a', 'one'), item(2, 1, 'a', 'two')]);
  await s.putIfNewer([item(1, 2, 'a', 'one again'), item(2, 1, 'a', 'two')]); // the second is not newer
  const page = s.changes(0, 10, null);
  assert.equal(page.items.map((i) => [i.addr, i.tag.seq, i.value]), [[2, 1, null], [1, 2, null]], 'tags only, in change order');
  assert.is(page.head, 3);
  assert.is(page.next, null, 'the page reached the head');
  assert.ok(page.oldestAgeMs !== null && page.oldestAgeMs >= 0);
  assert.equal(s.changes(2, 10, null).items.map((i) => i.addr), [1], 'after position 2: only the rewrite');
  const first = s.changes(0, 1, null);
  assert.equal([first.items.length, first.next], [1, 2], 'a full page says where to go on');
  assert.equal(s.changes(0, 10, 1024).items.map((i) => i.value), ['two', 'one again'], 'with values');
  assert.equal(s.changes(3, 10, null), { items: [], next: null, head: 3, log: s.changeLog().log, oldestAgeMs: null });
  await s.close();
});

test('a catch-up position is kept in the transaction of its items, and survives a reopen with the change log', async () => {
  let s = new SqliteStore(dir);
  const log = s.changeLog().log;
  assert.match(log, /^[0-9a-f]{16}$/);
  await s.putIfNewer([item(7, 1, 'a', 'x')], { peer: 'p:1', log: 'their-log', position: 40 });
  await s.putIfNewer([], { peer: 'p:1', log: 'their-log', position: 41 });
  await s.putIfNewer([], { peer: 'p:2', log: 'other', position: 3 });
  await s.close();
  s = new SqliteStore(dir);
  assert.equal(s.positions().sort((a, b) => a.peer.localeCompare(b.peer)), [{ peer: 'p:1', log: 'their-log', position: 41 }, { peer: 'p:2', log: 'other', position: 3 }]);
  assert.equal(s.changeLog(), { log, head: 1 }, 'the same log and head after a reopen');
  const renewed = s.renewChangeLog();
  assert.is.not(renewed, log);
  await s.close();
  s = new SqliteStore(dir);
  assert.is(s.changeLog().log, renewed, 'a renewed log id is durable');
  await s.close();
});

test('the tags-only feed leaves out a damaged register; the feed with values refuses it', async () => {
  const s = new SqliteStore(dir);
  await s.putIfNewer([item(1, 1, 'a', 'one'), item(2, 1, 'a', 'two')]);
  await s.close();
  const db = new Database(join(dir, DB_FILE));
  db.prepare("UPDATE registers SET writer = 'b' WHERE addr = 1").run(); // a flipped byte in the tag fields
  db.close();
  const t = new SqliteStore(dir);
  const page = t.changes(0, 10, null);
  assert.equal(page.items.map((i) => i.addr), [2]);
  assert.is(page.next, null, 'the damaged row is passed over, not waited for');
  assert.throws(() => t.changes(0, 10, 1024), /failed its checksum/);
  await t.close();
});

/** Every page of the tags-only feed from `since` to the head, `limit` at a time: [addr, seq] in order, and how many pages. */
const { feedStaleScan: FEED_STALE_SCAN, staleMin: LOG_STALE_MIN } = CHANGE_LOG_TUNING;

function walkFeed(s: SqliteStore, since: number, limit: number): { got: [number, number][]; pages: number } {
  const got: [number, number][] = [];
  let pages = 0;
  for (let at: number | null = since; at !== null; pages++) {
    const page = s.changes(at, limit, null);
    got.push(...page.items.map((i): [number, number] => [i.addr, i.tag.seq]));
    at = page.next;
  }
  return { got, pages };
}

/** What the feed must give after `since`, read from the rows themselves: each row at its latest change, in change order. */
function expectedFeed(since: number): [number, number][] {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT addr, seq FROM registers WHERE change > ? ORDER BY change').all(since) as { addr: number; seq: number }[]).map((r) => [r.addr, r.seq]);
  } finally {
    db.close();
  }
}

function logEntries(): number {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM change_log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('under many rewrites the change log is pruned, and the feed still gives every row once, at its latest change, from any position', async () => {
  const s = new SqliteStore(dir, 'normal');
  const addrs = 40;
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  let seq = 0;
  let most = 0;
  for (let commit = 0; commit < 600; commit++) {
    await s.putIfNewer(Array.from({ length: 50 }, () => item(next() % addrs, ++seq, 'w', `v${seq}`)));
    most = Math.max(most, logEntries());
  }
  const head = s.changeLog().head;
  assert.is(head, 30_000, 'every write stamped a change');
  assert.ok(most <= addrs + LOG_STALE_MIN + 50 + 1, `the log stays near addresses + ${LOG_STALE_MIN} stale entries (at most ${most})`);
  for (const since of [0, 1, 17, head - 20_001, head - 9_000, head - 300, head - 41, head - 1, head]) {
    for (const limit of [1, 7, 1000]) {
      assert.equal(walkFeed(s, since, limit).got, expectedFeed(since), `from ${since}, ${limit} a page`);
    }
  }
  await s.close();
  const again = new SqliteStore(dir, 'normal');
  assert.is(again.changeLog().head, head, 'the head is read back after a reopen, pruned log and all');
  await again.putIfNewer([item(3, ++seq, 'w', 'after')]);
  assert.is(again.changeLog().head, head + 1);
  assert.equal(walkFeed(again, head, 10).got, [[3, seq]]);
  await again.close();
});

test('a run of stale log entries longer than one page\'s scan gives empty pages that move on, not a long scan', async () => {
  const s = new SqliteStore(dir, 'normal');
  const run = FEED_STALE_SCAN + 500;
  await s.putIfNewer([item(9, 1, 'w', 'nine')]);
  await s.putIfNewer(Array.from({ length: run }, (_, k) => item(1, k + 1, 'w', `one-${k}`)));
  await s.putIfNewer([item(2, 1, 'w', 'two')]);
  const first = s.changes(1, 10, null);
  assert.equal(first.items, [], 'only stale entries in reach');
  assert.is(first.next, 1 + 10 + FEED_STALE_SCAN, 'the page says where it stopped');
  assert.equal(walkFeed(s, 0, 10), { got: [[9, 1], [1, run], [2, 1]], pages: 2 });
  assert.equal(walkFeed(s, 1, 10).got, [[1, run], [2, 1]]);
  await s.close();
});

test('pruning never deletes the newest log entry, so a reopen finds the head even when its row is gone', async () => {
  const tuning = { feedStaleScan: 10, staleMin: 0, prunePerItem: 1000, pruneChunk: 1000 };
  let s = new SqliteStore(dir, 'normal', tuning);
  await s.putIfNewer(Array.from({ length: 50 }, (_, k) => item(1, k + 1, 'w', 'one')));
  assert.is(logEntries(), 1, 'the commit pruned the 49 stale entries of address 1');
  await s.putIfNewer([item(3, 1, 'w', 'three')]);
  await s.putIfNewer([item(2, 1, 'w', 'two')]);
  const head = s.changeLog().head;
  await s.close();
  const db = new Database(join(dir, DB_FILE));
  db.prepare('DELETE FROM registers WHERE addr IN (2, 3)').run(); // rows lost on disk: their entries are stale now
  db.prepare("INSERT INTO meta VALUES ('prune_after', 'not a number') ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(); // a damaged hint
  db.close();
  s = new SqliteStore(dir, 'normal', tuning);
  await s.putIfNewer([], { peer: 'p:1', log: 'l', position: 1 }); // a commit: it prunes
  assert.is(logEntries(), 2, 'the entry of address 3 is pruned, the newest entry is kept');
  await s.close();
  s = new SqliteStore(dir, 'normal', tuning);
  assert.is(s.changeLog().head, head, 'the head does not go back (a change number is never stamped twice)');
  assert.equal(walkFeed(s, 0, 10).got, [[1, 50]]);
  await s.close();
});

test('a version-3 database is migrated to the change log: the feed gives the same rows in the same order', async () => {
  const db = new Database(join(dir, DB_FILE));
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE registers (addr INTEGER PRIMARY KEY, seq INTEGER NOT NULL, writer TEXT NOT NULL, value TEXT,
      value_bytes INTEGER NOT NULL DEFAULT 0, value_crc INTEGER NOT NULL DEFAULT 0, row_crc INTEGER NOT NULL DEFAULT 0,
      change INTEGER NOT NULL DEFAULT 0, changed_ms INTEGER NOT NULL DEFAULT 0) STRICT;
    CREATE TABLE damaged (addr INTEGER PRIMARY KEY) STRICT;
    CREATE INDEX registers_by_change ON registers (change);
    CREATE TABLE catchup (peer TEXT PRIMARY KEY, log TEXT NOT NULL, position INTEGER NOT NULL) STRICT;
    INSERT INTO meta VALUES ('change_log', '00000000000000aa');`);
  db.pragma('user_version = 3');
  db.close();
  // Rows with their checksums, as schema 3 wrote them: written by a store, then moved back to schema 3.
  const writer = new SqliteStore(join(dir, 'v4'));
  await writer.putIfNewer([item(5, 1, 'w', 'five'), item(2, 1, 'w', 'two'), item(7, 1, 'w', 'seven')]);
  await writer.putIfNewer([item(5, 2, 'w', 'five again')]);
  await writer.close();
  const v3 = new Database(join(dir, DB_FILE));
  v3.exec(`ATTACH '${join(dir, 'v4', DB_FILE)}' AS v4; INSERT INTO registers SELECT addr, seq, writer, value, value_bytes, value_crc, row_crc, change, changed_ms FROM v4.registers; DETACH v4;`);
  v3.close();
  const s = new SqliteStore(dir);
  assert.equal(s.changeLog(), { log: '00000000000000aa', head: 4 }, 'the same log and head');
  assert.equal(walkFeed(s, 0, 10).got, [[2, 1], [7, 1], [5, 2]]);
  assert.equal(walkFeed(s, 2, 1).got, [[7, 1], [5, 2]]);
  await s.putIfNewer([item(2, 2, 'w', 'two again')]);
  assert.equal(walkFeed(s, 0, 10).got, [[7, 1], [5, 2], [2, 2]]);
  const indexes = (s as unknown as { db: Database.Database }).db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'registers_by_change'").all();
  assert.equal(indexes, [], 'the index is gone');
  assert.is(s.quickCheck(), null);
  await s.close();
});

test.run();
