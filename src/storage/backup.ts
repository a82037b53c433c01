import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { makeDirs } from './make-dirs.js';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DB_FILE, SCHEMA_VERSION, sqliteAddonOptions } from './sqlite-store.js';

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly addresses: number;
}

/**
 * Writes a consistent snapshot of a node's database to `file` while the node runs.
 * `VACUUM INTO` reads inside one transaction, so the copy is one committed state of the WAL
 * database, however busy the node is (the incremental backup API would restart on every
 * commit made by the daemon's connection).
 */
export function backupDatabase(dataDir: string, file: string): BackupResult {
  const source = join(dataDir, DB_FILE);
  if (!existsSync(source)) throw new ConfigError(`no shmem database in ${dataDir} (looked for ${source})`);
  const target = resolve(file);
  if (existsSync(target)) throw new ConfigError(`${target} already exists; choose a new file name`);
  const db = new Database(source, { readonly: true, fileMustExist: true, ...sqliteAddonOptions() });
  try {
    checkSchema(db, source);
    const temp = `${target}.partial`;
    rmSync(temp, { force: true });
    // Made readable by its owner only before it holds anything: every value of the cluster is in it.
    closeSync(openSync(temp, 'w', 0o600));
    db.prepare('VACUUM INTO ?').run(temp);
    chmodSync(temp, 0o600);
    renameSync(temp, target);
  } finally {
    db.close();
  }
  return { file: target, bytes: statSync(target).size, addresses: count(target) };
}

/**
 * Prepares `dataDir` from a backup. The restored node must not count as a replica until it
 * caught up: it may have acknowledged writes after the backup was taken, exactly like a wiped
 * node. So the copy is marked not initialised (it recovers from N-Q+1 other members at
 * start) and gets a new node id (its old incarnations may have issued tags the backup does
 * not know about). The member set is kept.
 */
export function restoreDatabase(file: string, dataDir: string): BackupResult {
  const source = resolve(file);
  if (!existsSync(source)) throw new ConfigError(`backup file ${source} does not exist`);
  const target = join(dataDir, DB_FILE);
  if (existsSync(target)) throw new ConfigError(`${dataDir} already holds a database; restore into an empty or new directory`);
  makeDirs(dataDir);
  chmodSync(dataDir, 0o700);
  closeSync(openSync(target, 'w', 0o600));
  const backup = new Database(source, { readonly: true, fileMustExist: true, ...sqliteAddonOptions() });
  try {
    checkSchema(backup, source);
    backup.prepare('VACUUM INTO ?').run(target);
  } finally {
    backup.close();
  }
  const db = new Database(target, sqliteAddonOptions());
  try {
    db.pragma('journal_mode = WAL');
    // A restored database's change numbers go back in time: a new change log id (made at the
    // first open) makes the other members compare everything with it (docs/catch-up.md).
    db.prepare("DELETE FROM meta WHERE key IN ('initialized', 'node_id', 'incarnation', 'change_log')").run();
  } finally {
    db.close();
  }
  return { file: target, bytes: statSync(target).size, addresses: count(target) };
}

function checkSchema(db: Database.Database, path: string): void {
  let version: number;
  let tables: string[];
  try {
    version = db.pragma('user_version', { simple: true }) as number;
    tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
  } catch (err) {
    throw new ConfigError(`${path} is not a SQLite database (${(err as Error).message})`);
  }
  if (!tables.includes('registers') || !tables.includes('meta')) throw new ConfigError(`${path} is not a shmem database`);
  if (version > SCHEMA_VERSION) throw new ConfigError(`${path} has schema version ${version}, newer than this shmem (${SCHEMA_VERSION})`);
}

function count(path: string): number {
  const db = new Database(path, { readonly: true, ...sqliteAddonOptions() });
  try {
    return (db.prepare('SELECT count(*) AS n FROM registers').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
