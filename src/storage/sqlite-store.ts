import Database from 'better-sqlite3';
import { makeDirs } from './make-dirs.js';
import { join } from 'node:path';
import { assert } from '../core/assert.js';
import { limits } from '../core/limits.js';
import { carstamp, compareTags, INITIAL } from '../core/tag.js';
import { wantsValue, type Addr, type RegisterItem, type ReplicaAnswer, type Tag, type ValueWant, type Versioned } from '../core/types.js';
import { RegisterDamagedError, StorageUnavailableError } from '../errors.js';
import { NO_ACCEPTOR_ROW, type AcceptorRow } from '../core/rmw.js';
import { acceptorChecksum, parseAcceptorRow, rowChecksum, UNAVAILABLE_DAMAGED, VALUE_LOST, valueChecksum, valueSize } from './checksums.js';
import { newChangeLogId, storeDecision, type DamageKind, type CatchUpPosition, type ChangePage, type RegisterStore, type StoreHealth, type StoreStats, type TagCursor, type TagEntry } from './register-store.js';

/**
 * Where the SQLite native addon comes from. From a checkout, better-sqlite3 finds its own
 * prebuilt addon. The single executable unpacks the addon it carries and names it in
 * `globalThis.__SHMEM_SQLITE_ADDON__` before loading the CLI (src/package/sea-bootstrap.ts).
 */
export function sqliteAddonOptions(): Database.Options {
  const path = (globalThis as { __SHMEM_SQLITE_ADDON__?: string }).__SHMEM_SQLITE_ADDON__;
  return path === undefined ? {} : { nativeBinding: path };
}

/** How hard a commit must hit the disk before updates are acknowledged. */
export type Durability = 'full' | 'normal';

/** Schema migrations; index i brings user_version from i to i+1, in one transaction each. */
const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  (db) => db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE registers (
      addr   INTEGER PRIMARY KEY,
      seq    INTEGER NOT NULL,
      writer TEXT    NOT NULL,
      value  TEXT
    ) STRICT;`),
  // Version 2: value sizes (known without reading values) and checksums (docs/storage-integrity.md).
  (db) => {
    db.exec(`ALTER TABLE registers ADD COLUMN value_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE registers ADD COLUMN value_crc INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE registers ADD COLUMN row_crc INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE damaged (addr INTEGER PRIMARY KEY) STRICT;`);
    const rows = db.prepare('SELECT addr, seq, writer, value FROM registers').all() as { addr: number; seq: number; writer: string; value: string | null }[];
    const set = db.prepare('UPDATE registers SET value_bytes = ?, value_crc = ?, row_crc = ? WHERE addr = ?');
    for (const r of rows) {
      const bytes = valueSize(r.value);
      const vcrc = valueChecksum(r.value);
      set.run(bytes, vcrc, rowChecksum(r.addr, r.seq, r.writer, bytes, vcrc), r.addr);
    }
  },
  // Version 3: the change sequence and catch-up positions (docs/catch-up.md). Rows already
  // stored get the changes 1..n in address order, stamped now.
  (db) => {
    db.exec(`ALTER TABLE registers ADD COLUMN change INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE registers ADD COLUMN changed_ms INTEGER NOT NULL DEFAULT 0;
      UPDATE registers SET change = n.rn FROM (SELECT addr, row_number() OVER (ORDER BY addr) AS rn FROM registers) AS n WHERE registers.addr = n.addr;
      CREATE INDEX registers_by_change ON registers (change);
      CREATE TABLE catchup (peer TEXT PRIMARY KEY, log TEXT NOT NULL, position INTEGER NOT NULL) STRICT;`);
    db.prepare('UPDATE registers SET changed_ms = ?').run(Date.now());
  },
  // Version 4: the feed reads an append-only change log instead of an index on change, whose
  // deletes dirtied a random page per write (docs/catch-up.md, "The change log on disk").
  (db) => db.exec(`CREATE TABLE change_log (change INTEGER PRIMARY KEY, addr INTEGER NOT NULL) STRICT;
    INSERT INTO change_log (change, addr) SELECT change, addr FROM registers ORDER BY change;
    DROP INDEX registers_by_change;`),
  // Version 5: what a damage mark lost, the value only (its tag fields intact: the replica still
  // vouches for the tag) or the tag (docs/storage-integrity.md). Marks of before are read as
  // tag lost, the old rule.
  (db) => db.exec('ALTER TABLE damaged ADD COLUMN tag_lost INTEGER NOT NULL DEFAULT 1'),
  // Version 6: carstamps and per-address Paxos acceptors (docs/rmw.md). Rows of before get
  // rmwc 0, which their checksums already cover (rowChecksum adds rmwc only when it is not 0).
  (db) => db.exec(`ALTER TABLE registers ADD COLUMN rmwc INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE acceptors (addr INTEGER PRIMARY KEY, state TEXT NOT NULL, crc INTEGER NOT NULL) STRICT;`),
];

export const SCHEMA_VERSION = MIGRATIONS.length;
export const DB_FILE = 'shmem.db';

interface Pending {
  readonly items: readonly RegisterItem[];
  /** Acceptor rows to store in the same transaction (docs/rmw.md). */
  readonly acceptors?: readonly { readonly addr: Addr; readonly row: AcceptorRow }[];
  /** A catch-up position the items complete, kept in the same transaction. */
  readonly position: CatchUpPosition | undefined;
  readonly valueBytes: number;
  /** performance.now() when it was queued (the commit-wait histogram). */
  readonly queuedMs: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface TagRow { seq: number; writer: string; rmwc: number; value_bytes: number; value_crc: number; row_crc: number }

/** The carstamp a row stores. */
const tagOf = (row: { seq: number; writer: string; rmwc: number }): Tag => carstamp(row.seq, row.writer, row.rmwc);
interface ChangeRow extends TagRow { addr: number; change: number; changed_ms: number }
/** A change log entry and its address's row (null columns: the row is gone). */
type LogEntryRow = { entry: number } & ({ [K in keyof ChangeRow]: ChangeRow[K] } | { [K in keyof ChangeRow]: null });

/** How the change log is read and pruned (docs/catch-up.md, "The change log on disk"). Tests shrink them to reach the edges. */
export interface ChangeLogTuning {
  /** Entries a feed page may examine beyond its limit: a bound on the stale entries it walks past. */
  readonly feedStaleScan: number;
  /** Stale entries kept before commits start pruning: at least this many, or one per address. */
  readonly staleMin: number;
  /** Entries one commit's prune examines per item it stores (plus one more item's worth), at most pruneChunk. */
  readonly prunePerItem: number;
  readonly pruneChunk: number;
}
export const CHANGE_LOG_TUNING: ChangeLogTuning = { feedStaleScan: 4096, staleMin: 10_000, prunePerItem: 4, pruneChunk: 256 };
interface ValueRow extends TagRow { value: string | null }

/** A value size no budget reaches: "include this value whatever its size". */
const ANY_SIZE = Number.MAX_SAFE_INTEGER;
/** A budget below every size (null values are -1): "no values at all". */
const NO_VALUES = -2;

/**
 * The only module that talks to SQLite. WAL journal; with durability `full` (the default)
 * every commit is fsync'd (synchronous=FULL) before any update in it is acknowledged.
 *
 * Group commit: updates that arrive while the event loop is busy are queued and written by
 * one transaction (one fsync) on the next turn of the loop, at most limits.commitValueBytesMax
 * of values per transaction (the rest commits on the turn after, so a burst of big values
 * blocks the loop one bounded transaction at a time).
 *
 * Every row carries value_bytes, value_crc and row_crc; every read verifies them, and a row
 * that fails is never returned: its address is marked damaged (durably) until a repair lifts the
 * mark (docs/storage-integrity.md). A row whose tag fields pass but whose value fails keeps
 * answering its tag (with no value) and is healed by the next update it stores; a row whose tag
 * fields fail is answered as unavailable.
 */
export class SqliteStore implements RegisterStore {
  private readonly db: Database.Database;
  private readonly selectTag: Database.Statement<[number], TagRow>;
  private readonly selectValue: Database.Statement<[number, number], ValueRow>;
  private readonly selectPageSizes: Database.Statement<[number, number], { addr: number; value_bytes: number }>;
  private readonly selectTags: Database.Statement<[number, number], TagRow & { addr: number }>;
  private readonly selectTagsBefore: Database.Statement<[number, number], TagRow & { addr: number }>;
  private readonly upsert: Database.Statement<[number, number, string, number, string | null, number, number, number, number, number]>;
  private readonly selectChanges: Database.Statement<[number, number], LogEntryRow>;

  private readonly appendLog: Database.Statement<[number, number]>;
  private readonly selectPrunable: Database.Statement<[number, number, number], { entry: number; stale: number }>;
  private readonly deleteLogEntry: Database.Statement<[number]>;
  /** Log entries whose address has a later change (or no row): kept until a prune deletes them. */
  private stale = 0;
  /** Where the next prune starts examining the log (wraps to the start at the head). */
  private pruneAfter = 0;
  private readonly savePosition: Database.Statement<[string, string, number]>;
  private readonly liftMark: Database.Statement<[number]>;
  private readonly selectAcceptor: Database.Statement<[number], { state: string; crc: number }>;
  private readonly upsertAcceptor: Database.Statement<[number, string, number]>;
  /** The largest change stamped (the change sequence's head), and the log id that names the sequence. */
  private head = 0;
  private log = '';
  /** Applies a group in one transaction; returns how many addresses it added. */
  private readonly commitBatch: (batch: readonly Pending[]) => number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private commits = 0;
  private lastBatchItems = 0;
  private highestTag: Tag | null = null;
  /** Number of stored addresses: counted once at open, then kept by the commits. */
  private addresses = 0;
  /** Addresses marked damaged, and what they lost (the `damaged` table, loaded at open). */
  private readonly damaged = new Map<Addr, DamageKind>();
  /** Value marks the transaction under way lifted (an update replaced the row): dropped from `damaged` once it commits. */
  private healing: Addr[] = [];
  private healthState: StoreHealth = { ok: true };
  readonly path: string;

  /** Told about every group commit (metrics): its duration and number of items. */
  /** Told after each group commit: its duration, its items, and how long each of its requests waited for it to start. */
  onCommit: (seconds: number, items: number, waitedSeconds: readonly number[]) => void = () => {};
  /** Told when a register fails its checksum (log and metrics); `what` says which check. */
  onDamage: (addr: Addr, what: string) => void = () => {};
  /** Told when commits start failing or succeed again (log once per change, readiness). */
  onHealthChange: (health: StoreHealth) => void = () => {};

  constructor(dataDir: string, durability: Durability = 'full', private readonly tuning: ChangeLogTuning = CHANGE_LOG_TUNING) {
    makeDirs(dataDir);
    this.path = join(dataDir, DB_FILE);
    this.db = new Database(this.path, sqliteAddonOptions());
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.migrate();
    const columns = 'seq, writer, rmwc, value_bytes, value_crc, row_crc';
    this.selectTag = this.db.prepare(`SELECT ${columns} FROM registers WHERE addr = ?`);
    // CASE reads the value only when it fits the budget: a deferred value is never loaded.
    this.selectValue = this.db.prepare(`SELECT ${columns}, CASE WHEN value_bytes <= ? THEN value END AS value FROM registers WHERE addr = ?`);
    this.selectPageSizes = this.db.prepare('SELECT addr, value_bytes FROM registers WHERE addr > ? ORDER BY addr LIMIT ?');
    this.selectTags = this.db.prepare(`SELECT addr, ${columns} FROM registers WHERE addr > ? ORDER BY addr LIMIT ?`);
    this.selectTagsBefore = this.db.prepare(`SELECT addr, ${columns} FROM registers WHERE addr < ? ORDER BY addr DESC LIMIT ?`);
    this.upsert = this.db.prepare(
      'INSERT INTO registers (addr, seq, writer, rmwc, value, value_bytes, value_crc, row_crc, change, changed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT(addr) DO UPDATE SET seq = excluded.seq, writer = excluded.writer, rmwc = excluded.rmwc, value = excluded.value, ' +
      'value_bytes = excluded.value_bytes, value_crc = excluded.value_crc, row_crc = excluded.row_crc, change = excluded.change, changed_ms = excluded.changed_ms',
    );
    // Every entry after the position, with its address's row; the row is given out only when its change is the entry's.
    this.selectChanges = this.db.prepare(`SELECT l.change AS entry, r.addr, ${columns.split(', ').map((c) => `r.${c}`).join(', ')}, r.change, r.changed_ms
      FROM change_log l LEFT JOIN registers r ON r.addr = l.addr WHERE l.change > ? ORDER BY l.change LIMIT ?`);
    this.appendLog = this.db.prepare('INSERT INTO change_log (change, addr) VALUES (?, ?)');
    this.selectPrunable = this.db.prepare(`SELECT l.change AS entry, (r.change IS NULL OR r.change <> l.change) AS stale
      FROM change_log l LEFT JOIN registers r ON r.addr = l.addr WHERE l.change > ? AND l.change < ? ORDER BY l.change LIMIT ?`);
    this.deleteLogEntry = this.db.prepare('DELETE FROM change_log WHERE change = ?');
    this.savePosition = this.db.prepare('INSERT INTO catchup (peer, log, position) VALUES (?, ?, ?) ON CONFLICT(peer) DO UPDATE SET log = excluded.log, position = excluded.position');
    this.head = (this.db.prepare('SELECT max(change) AS h FROM change_log').get() as { h: number | null }).h ?? 0;
    this.log = this.getMeta('change_log') ?? this.renewChangeLog();
    // One scan at open; kept up to date by every commit after that (status is polled often).
    this.addresses = (this.db.prepare('SELECT count(*) AS n FROM registers').get() as { n: number }).n;
    this.pruneAfter = Number(this.getMeta('prune_after') ?? 0);
    if (!Number.isSafeInteger(this.pruneAfter) || this.pruneAfter < 0) this.pruneAfter = 0; // a damaged hint: start over
    this.stale = Math.max(0, (this.db.prepare('SELECT count(*) AS n FROM change_log').get() as { n: number }).n - this.addresses);
    const top = this.db.prepare('SELECT seq, writer, rmwc FROM registers ORDER BY seq DESC, writer DESC, rmwc DESC LIMIT 1').get() as TagRow | undefined;
    this.highestTag = top ? tagOf(top) : null;
    for (const { addr, tag_lost } of this.db.prepare('SELECT addr, tag_lost FROM damaged').all() as { addr: number; tag_lost: number }[]) {
      this.damaged.set(addr, tag_lost === 0 ? 'value' : 'tag');
    }
    this.liftMark = this.db.prepare('DELETE FROM damaged WHERE addr = ?');
    this.selectAcceptor = this.db.prepare('SELECT state, crc FROM acceptors WHERE addr = ?');
    this.upsertAcceptor = this.db.prepare('INSERT INTO acceptors (addr, state, crc) VALUES (?, ?, ?) ON CONFLICT(addr) DO UPDATE SET state = excluded.state, crc = excluded.crc');
    this.commitBatch = this.db.transaction((batch: readonly Pending[]) => {
      this.healing = [];
      let added = 0;
      const nowMs = Date.now();
      let items = 0;
      for (const p of batch) {
        items += p.items.length;
        for (const item of p.items) if (this.applyOne(item, nowMs)) added += 1;
        for (const a of p.acceptors ?? []) {
          const state = JSON.stringify(a.row);
          this.upsertAcceptor.run(a.addr, state, acceptorChecksum(a.addr, state));
        }
        if (p.position) this.savePosition.run(p.position.peer, p.position.log, p.position.position);
      }
      if (this.stale > Math.max(this.tuning.staleMin, this.addresses + added)) this.pruneLog(items);
      return added;
    });
  }

  /** SQLite's structural check of the whole file; null when it passes, else what it found. */
  quickCheck(): string | null {
    try {
      const rows = this.db.pragma('quick_check(20)') as { quick_check: string }[];
      const found = rows.map((r) => r.quick_check);
      return found.length === 1 && found[0] === 'ok' ? null : found.join('; ');
    } catch (err) {
      return `${(err as Error).message} (${(err as { code?: string }).code ?? 'error'})`;
    }
  }

  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[] {
    assert(!this.closed, 'query after close');
    return this.guard(() => {
      let used = 0;
      return addrs.map((addr, i): ReplicaAnswer => {
        const damage = this.damaged.get(addr);
        if (damage === 'tag') return UNAVAILABLE_DAMAGED;
        if (damage === 'value') {
          // Its tag still counts; its value must come from another member.
          const row = this.selectTag.get(addr);
          if (!row || !this.rowIntact(addr, row)) return UNAVAILABLE_DAMAGED;
          return { tag: tagOf(row), lost: VALUE_LOST };
        }
        if (!wantsValue(want.values, i)) {
          const row = this.selectTag.get(addr);
          if (!row) return INITIAL;
          if (!this.rowIntact(addr, row)) return UNAVAILABLE_DAMAGED;
          return { tag: tagOf(row), value: null };
        }
        const allowed = want.oversize && used === 0 ? ANY_SIZE : want.budgetBytes - used;
        const row = this.selectValue.get(allowed, addr);
        if (!row) return INITIAL;
        if (!this.rowIntact(addr, row)) return UNAVAILABLE_DAMAGED;
        const tag = tagOf(row);
        if (row.value_bytes > allowed) return { tag, deferredBytes: row.value_bytes };
        if (!this.valueIntact(addr, row)) return { tag, lost: VALUE_LOST };
        used += Math.max(0, row.value_bytes);
        return { tag, value: row.value };
      });
    });
  }

  page(after: Addr | null, limit: number, valueBytesMax: number): { items: RegisterItem[]; next: Addr | null } {
    assert(!this.closed, 'page after close');
    return this.guard(() => {
      const items: RegisterItem[] = [];
      let bytes = 0;
      let cut = false;
      // Sizes first (values are not read), so a page never loads the value that would not fit.
      for (const row of this.selectPageSizes.iterate(after ?? -1, limit)) {
        if (items.length > 0 && bytes + Math.max(0, row.value_bytes) > valueBytesMax) {
          cut = true;
          break;
        }
        items.push({ addr: row.addr, tag: INITIAL.tag, value: null });
        bytes += Math.max(0, row.value_bytes);
      }
      const full: RegisterItem[] = [];
      for (const { addr } of items) {
        const row = this.selectValue.get(ANY_SIZE, addr);
        if (!row) continue; // not possible inside one synchronous call; keep the page honest anyway
        if (this.damaged.has(addr) || !this.rowIntact(addr, row) || !this.valueIntact(addr, row)) throw this.damagedInPage(addr);
        full.push({ addr, tag: tagOf(row), value: row.value });
      }
      const next = (cut || items.length === limit) && full.length > 0 ? full.at(-1)!.addr : null;
      return { items: full, next };
    });
  }

  tags(from: TagCursor, limit: number): TagEntry[] {
    assert(!this.closed, 'tags after close');
    const rows = 'after' in from
      ? this.guard(() => this.selectTags.all(from.after ?? -1, limit))
      : this.guard(() => this.selectTagsBefore.all(from.before ?? Number.MAX_SAFE_INTEGER + 1, limit).reverse());
    return this.guard(() => rows.map((row): TagEntry => {
      const intact = this.damaged.get(row.addr) !== 'tag' && this.rowIntact(row.addr, row);
      if (!intact) return { addr: row.addr, tag: INITIAL.tag, damaged: true };
      const tag = tagOf(row);
      return this.damaged.has(row.addr) ? { addr: row.addr, tag, damaged: true } : { addr: row.addr, tag };
    }));
  }

  changes(since: number, limit: number, valueBytesMax: number | null): ChangePage {
    assert(!this.closed, 'changes after close');
    return this.guard(() => {
      const items: RegisterItem[] = [];
      let bytes = 0;
      let last = since;
      let oldestAgeMs: number | null = null;
      let full = false;
      const nowMs = Date.now();
      let examined = 0;
      let given = 0;
      const examineMax = limit + this.tuning.feedStaleScan;
      for (const entry of this.selectChanges.iterate(since, examineMax)) {
        examined += 1;
        if (entry.change !== entry.entry) {
          // Stale: its address changed again later (or its row is gone); the row comes at its own entry.
          last = entry.entry;
          continue;
        }
        const row = entry as ChangeRow & { entry: number };
        if (valueBytesMax !== null && items.length > 0 && bytes + Math.max(0, row.value_bytes) > valueBytesMax) {
          full = true;
          break;
        }
        oldestAgeMs ??= Math.max(0, nowMs - row.changed_ms);
        last = row.change;
        given += 1;
        // Never given out: a register that fails its checksum (its repair stamps a new change).
        if (this.damaged.has(row.addr) || !this.rowIntact(row.addr, row)) {
          if (valueBytesMax !== null) throw this.damagedInPage(row.addr);
          if (given === limit) break;
          continue;
        }
        const tag = tagOf(row);
        if (valueBytesMax === null) {
          items.push({ addr: row.addr, tag, value: null });
          if (given === limit) break;
          continue;
        }
        const v = this.selectValue.get(ANY_SIZE, row.addr)!;
        if (!this.rowIntact(row.addr, v) || !this.valueIntact(row.addr, v)) throw this.damagedInPage(row.addr);
        items.push({ addr: row.addr, tag: tagOf(v), value: v.value });
        bytes += Math.max(0, row.value_bytes);
        if (given === limit) break;
      }
      if (given === limit || examined === examineMax) full = true;
      return { items, next: full ? last : null, head: this.head, log: this.log, oldestAgeMs };
    });
  }

  changeLog(): { readonly log: string; readonly head: number } {
    return { log: this.log, head: this.head };
  }

  renewChangeLog(): string {
    this.log = newChangeLogId();
    this.setMeta('change_log', this.log);
    return this.log;
  }

  positions(): CatchUpPosition[] {
    return this.guard(() => this.db.prepare('SELECT peer, log, position FROM catchup').all() as CatchUpPosition[]);
  }

  acceptors(addrs: readonly Addr[]): (AcceptorRow | undefined)[] {
    assert(!this.closed, 'acceptors after close');
    return this.guard(() => addrs.map((addr) => {
      const row = this.selectAcceptor.get(addr);
      if (row === undefined) return NO_ACCEPTOR_ROW;
      const parsed = acceptorChecksum(addr, row.state) === row.crc ? parseAcceptorRow(row.state) : undefined;
      if (parsed === undefined) this.onDamage(addr, 'acceptor row checksum');
      return parsed;
    }));
  }

  acceptorPage(after: Addr | null, limit: number): { addr: Addr; row: AcceptorRow }[] {
    assert(!this.closed, 'acceptorPage after close');
    const rows = this.guard(() => this.db.prepare('SELECT addr, state, crc FROM acceptors WHERE addr > ? ORDER BY addr LIMIT ?').all(after ?? -1, limit) as { addr: number; state: string; crc: number }[]);
    return rows.map((r) => {
      const row = acceptorChecksum(r.addr, r.state) === r.crc ? parseAcceptorRow(r.state) : undefined;
      if (row === undefined) throw new RegisterDamagedError(`the acceptor row of address ${r.addr} in ${this.path} failed its checksum`);
      return { addr: r.addr, row };
    });
  }

  putAcceptors(rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void> {
    return this.putRmw([], rows);
  }

  putRmw(items: readonly RegisterItem[], rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageUnavailableError('the store is closed'));
    return new Promise((resolve, reject) => {
      let valueBytes = 0;
      for (const item of items) valueBytes += Math.max(0, valueSize(item.value));
      for (const r of rows) valueBytes += Math.max(0, valueSize(r.row.accepted?.value ?? null));
      this.pending.push({ items, acceptors: rows, position: undefined, valueBytes, queuedMs: performance.now(), resolve, reject });
      this.scheduleFlush();
    });
  }

  putIfNewer(items: readonly RegisterItem[], position?: CatchUpPosition): Promise<void> {
    if (this.closed) return Promise.reject(new StorageUnavailableError('the store is closed'));
    return new Promise((resolve, reject) => {
      let valueBytes = 0;
      for (const item of items) valueBytes += Math.max(0, valueSize(item.value));
      this.pending.push({ items, position, valueBytes, queuedMs: performance.now(), resolve, reject });
      this.scheduleFlush();
    });
  }

  damagedAddrs(limit: number): Addr[] {
    return [...this.damaged.keys()].sort((a, b) => a - b).slice(0, limit);
  }

  clearDamaged(addrs: readonly Addr[]): void {
    this.guard(() => {
      const remove = this.db.prepare('DELETE FROM damaged WHERE addr = ?');
      // While damaged, the row was left out of the change feed and tag pages, and the peers'
      // positions moved past it; a repair that found nothing newer does not rewrite it. So it
      // gets a new change: it comes again (docs/catch-up.md; simulation seed 508).
      const restamp = this.db.prepare('UPDATE registers SET change = ?, changed_ms = ? WHERE addr = ?');
      const nowMs = Date.now();
      this.db.transaction(() => {
        for (const a of addrs) {
          remove.run(a);
          this.head += 1;
          if (restamp.run(this.head, nowMs, a).changes > 0) {
            this.appendLog.run(this.head, a);
            this.stale += 1;
          }
        }
      })();
    });
    for (const a of addrs) this.damaged.delete(a);
  }

  getMeta(key: string): string | undefined {
    const row = this.guard(() => this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined);
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.guard(() => this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value));
  }

  /** setMeta for a hint that may be lost: a failing disk does not stop a close. */
  private trySetMeta(key: string, value: string): void {
    try {
      this.setMeta(key, value);
    } catch {
      // Only a hint.
    }
  }

  stats(): StoreStats {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return {
      addresses: this.addresses, dbBytes: pageCount * pageSize, commits: this.commits, lastBatchItems: this.lastBatchItems,
      path: this.path, highestTag: this.highestTag, damaged: this.damaged.size,
    };
  }

  health(): StoreHealth {
    return this.healthState;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.pending.length > 0) this.flush();
    // Where pruning goes on after a restart (a crash starts it over from the log's start: only slower).
    if (this.pruneAfter > 0) this.trySetMeta('prune_after', String(this.pruneAfter));
    this.closed = true;
    this.db.close();
  }

  private damagedInPage(addr: Addr): RegisterDamagedError {
    return new RegisterDamagedError(`address ${addr} of ${this.path} failed its checksum; it is repaired from the other members before this replica gives it out`);
  }

  /** Verifies a row's tag fields; a mismatch marks the address damaged, its tag lost. */
  private rowIntact(addr: Addr, row: TagRow): boolean {
    if (rowChecksum(addr, row.seq, row.writer, row.value_bytes, row.value_crc, row.rmwc) === row.row_crc) return true;
    this.markDamaged(addr, 'tag', 'row checksum (tag fields)');
    return false;
  }

  /** Verifies a value read with a verified row; a mismatch marks the address damaged, its value lost (its tag still trusted). */
  private valueIntact(addr: Addr, row: ValueRow): boolean {
    if (valueSize(row.value) === row.value_bytes && valueChecksum(row.value) === row.value_crc) return true;
    this.markDamaged(addr, 'value', 'value checksum');
    return false;
  }

  /** Marks `addr` damaged (durably); a value mark becomes a tag mark when the tag fields fail too, never the other way. */
  private markDamaged(addr: Addr, kind: DamageKind, what: string): void {
    const had = this.damaged.get(addr);
    if (had === 'tag' || had === kind) return;
    this.damaged.set(addr, kind);
    try {
      this.db.prepare('INSERT INTO damaged (addr, tag_lost) VALUES (?, ?) ON CONFLICT(addr) DO UPDATE SET tag_lost = excluded.tag_lost').run(addr, kind === 'tag' ? 1 : 0);
    } catch {
      // The mark stays in memory; the next read of the row finds the damage again.
    }
    if (had === undefined) this.onDamage(addr, what);
  }

  /** Stores `item` per storeDecision (the replica rule); true when its address was not stored before. */
  private applyOne(item: RegisterItem, nowMs: number): boolean {
    const row = this.selectTag.get(item.addr);
    // A row whose tag fields fail their checksum has an unknown tag: the item replaces it.
    const trusted = row !== undefined && this.rowIntact(item.addr, row);
    const stored: Versioned | undefined = trusted ? { tag: tagOf(row), value: null } : undefined;
    const damage = this.damaged.get(item.addr);
    if (!storeDecision(stored, damage !== undefined, item)) return false;
    // Only the value was lost, and this row replaces it (a tag at least as large): nothing of the
    // damage is left. A lost tag keeps its mark until a repair (what it vouched for is unknown).
    if (damage === 'value' && trusted) {
      this.liftMark.run(item.addr);
      this.healing.push(item.addr);
    }
    const bytes = valueSize(item.value);
    const vcrc = valueChecksum(item.value);
    // A rolled-back transaction leaves the head ahead of what is stored: gaps are harmless, going back is not.
    this.head += 1;
    const rmwc = item.tag.rmwc ?? 0;
    this.upsert.run(item.addr, item.tag.seq, item.tag.writer, rmwc, item.value, bytes, vcrc, rowChecksum(item.addr, item.tag.seq, item.tag.writer, bytes, vcrc, rmwc), this.head, nowMs);
    this.appendLog.run(this.head, item.addr);
    if (row !== undefined) this.stale += 1; // its previous entry
    if (this.highestTag === null || compareTags(item.tag, this.highestTag) > 0) this.highestTag = item.tag;
    return row === undefined;
  }

  /**
   * Deletes the stale entries among the next few after the prune cursor, inside the commit's
   * transaction: a few per item the commit stores, so a lone write pays a few row lookups, not
   * a chunk's. The cursor walks the log and wraps, so the entries it reaches next are those
   * pruned longest ago (the most likely stale). Never the newest entry: the head is read back
   * from it at open.
   */
  private pruneLog(items: number): void {
    const budget = Math.min(this.tuning.pruneChunk, this.tuning.prunePerItem * (items + 1));
    let examined = 0;
    for (const e of this.selectPrunable.all(this.pruneAfter, this.head, budget)) {
      examined += 1;
      this.pruneAfter = e.entry;
      if (e.stale === 1 && this.deleteLogEntry.run(e.entry).changes > 0) this.stale -= 1;
    }
    if (examined < budget) this.pruneAfter = 0; // the end: start over
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    // At most commitValueBytesMax of values per transaction (always at least one request).
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length && (n === 0 || bytes + this.pending[n]!.valueBytes <= limits.commitValueBytesMax)) {
      bytes += this.pending[n]!.valueBytes;
      n += 1;
    }
    const batch = this.pending.splice(0, n);
    if (this.pending.length > 0) this.scheduleFlush();
    const started = performance.now();
    try {
      this.addresses += this.commitBatch(batch);
    } catch (err) {
      const failure = storageFailure(err, this.path);
      if (failure) this.setHealth({ ok: false, reason: failure.message, sinceMs: Date.now() });
      for (const p of batch) p.reject(failure ?? err);
      return;
    }
    if (!this.healthState.ok) this.setHealth({ ok: true });
    for (const a of this.healing) if (this.damaged.get(a) === 'value') this.damaged.delete(a);
    this.healing = [];
    this.commits += 1;
    this.lastBatchItems = batch.reduce((k, p) => k + p.items.length, 0);
    this.onCommit((performance.now() - started) / 1000, this.lastBatchItems, batch.map((p) => (started - p.queuedMs) / 1000));
    for (const p of batch) p.resolve();
  }

  private setHealth(health: StoreHealth): void {
    const changed = health.ok !== this.healthState.ok;
    this.healthState = health;
    if (changed) this.onHealthChange(health);
  }

  /** Runs a read or a small write; SQLite's I/O and corruption errors become StorageUnavailableError. */
  private guard<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      throw storageFailure(err, this.path) ?? err;
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`database ${this.path} has schema version ${version}, newer than this shmem (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        MIGRATIONS[v]!(this.db);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}

/** SQLite result codes that mean "the disk or the file failed", not "a bug". */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|CANTOPEN|NOTADB|PROTOCOL)/;

/** A StorageUnavailableError naming the file and the cause, or undefined for other errors. */
export function storageFailure(err: unknown, path: string): StorageUnavailableError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !STORAGE_FAILURE.test(code)) return undefined;
  const what = code.startsWith('SQLITE_FULL') ? 'the disk is full' : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' ? 'the database file is damaged' : 'an I/O error';
  return new StorageUnavailableError(`${path}: ${what} (${code}: ${(err as Error).message})`, {
    hint: code.startsWith('SQLITE_FULL') ? 'free space on the data dir\'s disk; the node resumes by itself' : 'check the disk and the file; the node keeps serving what it can',
  });
}
