import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert } from '../core/assert.js';
import { shouldStore } from '../core/replica.js';
import { compareTags, INITIAL } from '../core/tag.js';
import type { Addr, RegisterItem, Tag, Versioned } from '../core/types.js';
import type { RegisterStore, StoreStats } from './register-store.js';

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

/** Schema migrations; index i brings user_version from i to i+1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE TABLE registers (
     addr   INTEGER PRIMARY KEY,
     seq    INTEGER NOT NULL,
     writer TEXT    NOT NULL,
     value  TEXT
   ) STRICT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
export const DB_FILE = 'shmem.db';

interface Pending {
  readonly items: readonly RegisterItem[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The only module that talks to SQLite. WAL journal; with durability `full` (the default)
 * every commit is fsync'd (synchronous=FULL) before any update in it is acknowledged.
 *
 * Group commit: updates that arrive while the event loop is busy are queued and written by
 * one transaction (one fsync) on the next turn of the loop. better-sqlite3 is synchronous,
 * so while a commit waits on the disk, new requests pile up and form the next batch.
 */
export class SqliteStore implements RegisterStore {
  private readonly db: Database.Database;
  private readonly selectOne: Database.Statement<[number], { seq: number; writer: string; value: string | null }>;
  private readonly selectPage: Database.Statement<[number, number], { addr: number; seq: number; writer: string; value: string | null }>;
  private readonly upsert: Database.Statement<[number, number, string, string | null]>;
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
  readonly path: string;

  /** Told about every group commit (metrics): its duration and number of items. */
  onCommit: (seconds: number, items: number) => void = () => {};

  constructor(dataDir: string, durability: Durability = 'full') {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, DB_FILE);
    this.db = new Database(this.path, sqliteAddonOptions());
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.migrate();
    this.selectOne = this.db.prepare('SELECT seq, writer, value FROM registers WHERE addr = ?');
    this.selectPage = this.db.prepare('SELECT addr, seq, writer, value FROM registers WHERE addr > ? ORDER BY addr LIMIT ?');
    this.upsert = this.db.prepare(
      'INSERT INTO registers (addr, seq, writer, value) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT(addr) DO UPDATE SET seq = excluded.seq, writer = excluded.writer, value = excluded.value',
    );
    // One scan at open; kept up to date by every commit after that (status is polled often).
    this.addresses = (this.db.prepare('SELECT count(*) AS n FROM registers').get() as { n: number }).n;
    const top = this.db.prepare('SELECT seq, writer FROM registers ORDER BY seq DESC, writer DESC LIMIT 1').get() as Tag | undefined;
    this.highestTag = top ? { seq: top.seq, writer: top.writer } : null;
    this.commitBatch = this.db.transaction((batch: readonly Pending[]) => {
      let added = 0;
      for (const p of batch) for (const item of p.items) if (this.applyOne(item)) added += 1;
      return added;
    });
  }

  read(addrs: readonly Addr[]): Versioned[] {
    assert(!this.closed, 'read after close');
    return addrs.map((addr) => this.readOne(addr));
  }

  list(after: Addr | null, limit: number): RegisterItem[] {
    assert(!this.closed, 'list after close');
    return this.selectPage.all(after ?? -1, limit).map((r) => ({ addr: r.addr, tag: { seq: r.seq, writer: r.writer }, value: r.value }));
  }

  putIfNewer(items: readonly RegisterItem[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  stats(): StoreStats {
    const addresses = this.addresses;
    const pageCount = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    return { addresses, dbBytes: pageCount * pageSize, commits: this.commits, lastBatchItems: this.lastBatchItems, path: this.path, highestTag: this.highestTag };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private readOne(addr: Addr): Versioned {
    const row = this.selectOne.get(addr);
    return row ? { tag: { seq: row.seq, writer: row.writer }, value: row.value } : INITIAL;
  }

  /** Stores `item` if newer (replica rule); true when its address was not stored before. */
  private applyOne(item: RegisterItem): boolean {
    const stored = this.readOne(item.addr);
    if (!shouldStore(stored, item)) return false;
    this.upsert.run(item.addr, item.tag.seq, item.tag.writer, item.value);
    if (this.highestTag === null || compareTags(item.tag, this.highestTag) > 0) this.highestTag = item.tag;
    return stored === INITIAL;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const started = performance.now();
    try {
      this.addresses += this.commitBatch(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.commits += 1;
    this.lastBatchItems = batch.reduce((n, p) => n + p.items.length, 0);
    this.onCommit((performance.now() - started) / 1000, this.lastBatchItems);
    for (const p of batch) p.resolve();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`database ${this.path} has schema version ${version}, newer than this shmem (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}
