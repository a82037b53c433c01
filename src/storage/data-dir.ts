import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { makeDirs } from './make-dirs.js';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { DB_FILE, sqliteAddonOptions } from './sqlite-store.js';

/**
 * The files of a data dir besides the database (docs/storage-integrity.md): the lock that
 * keeps a second daemon out, the incarnation kept outside the database it protects, and the
 * marker that tells a clean stop from a kill.
 */
export const LOCK_FILE = 'shmem.lock';
export const PID_FILE = 'shmem.pid';
export const INCARNATION_FILE = 'incarnation';
export const RUNNING_FILE = 'running';

/** Held for the life of the daemon; `release()` on a clean stop (the kernel drops it on any exit). */
export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data dir's exclusive lock: `shmem.lock`, an SQLite database in exclusive locking
 * mode after one write, i.e. a POSIX record lock held until the process ends however it ends.
 * Refuses with ConfigError naming the holder's pid when another process has it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  try {
    makeDirs(dataDir);
  } catch (err) {
    throw dataDirError(dataDir, err);
  }
  const path = join(dataDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 0, ...sqliteAddonOptions() });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = OFF'); // nothing to protect in it but the lock itself
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL) STRICT; BEGIN EXCLUSIVE; DELETE FROM holder; COMMIT;');
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      const pid = readPid(dataDir);
      throw new ConfigError(`data dir ${dataDir} is in use by another shmem process${pid ? ` (pid ${pid})` : ''}`, {
        hint: 'two daemons must never share a data dir; stop the other one, or give this one its own --data-dir',
      });
    }
    throw dataDirError(dataDir, err);
  }
  writeDurably(join(dataDir, PID_FILE), `${process.pid}\n`);
  return {
    release: () => {
      rmSync(join(dataDir, PID_FILE), { force: true });
      db.close();
    },
  };
}

function readPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The incarnation file's record: which node it counts for, and its last incarnation. */
export interface IncarnationRecord {
  readonly nodeId: string;
  readonly incarnation: number;
}

/**
 * The node id and last incarnation recorded outside the database, or undefined when there is
 * no such file or it is garbled (then it vouches for nothing; the database's count stands).
 */
export function readIncarnation(dataDir: string): IncarnationRecord | undefined {
  let record: Partial<IncarnationRecord>;
  try {
    record = JSON.parse(readFileSync(join(dataDir, INCARNATION_FILE), 'utf8')) as Partial<IncarnationRecord>;
  } catch {
    return undefined;
  }
  const { nodeId, incarnation } = record;
  if (typeof nodeId !== 'string' || !/^[0-9a-f]{8}$/.test(nodeId) || !Number.isSafeInteger(incarnation) || incarnation! < 1) return undefined;
  return { nodeId, incarnation: incarnation! };
}

/** Records `incarnation` durably (temporary file, fsync, rename, directory fsync) before it is used. */
export function writeIncarnation(dataDir: string, nodeId: string, incarnation: number): void {
  writeDurably(join(dataDir, INCARNATION_FILE), `${JSON.stringify({ nodeId, incarnation } satisfies IncarnationRecord)}\n`, dataDir);
}

/**
 * What the previous process left: `killed` when it did not stop cleanly (the running marker is
 * there); `walLost` when, on top of that, the database's write-ahead log is gone although the
 * database is there, so commits acknowledged since the last checkpoint may be lost.
 */
export function previousRun(dataDir: string): { killed: boolean; walLost: boolean } {
  const killed = existsSync(join(dataDir, RUNNING_FILE));
  const walLost = killed && existsSync(join(dataDir, DB_FILE)) && !existsSync(join(dataDir, `${DB_FILE}-wal`));
  return { killed, walLost };
}

/** Marks the data dir in use (after the database is open and has written, so its WAL exists). */
export function markRunning(dataDir: string): void {
  writeDurably(join(dataDir, RUNNING_FILE), `${process.pid}\n`, dataDir);
}

/** Removes the running marker after the database closed cleanly. */
export function clearRunning(dataDir: string): void {
  rmSync(join(dataDir, RUNNING_FILE), { force: true });
  fsyncDir(dataDir);
}

/** Writes `text` to `path` so that a crash leaves either the old or the new content, durably. */
function writeDurably(path: string, text: string, dir?: string): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  if (dir !== undefined) fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A data dir that cannot be used (a file, no permission, read-only, /dev/null): config_invalid naming it. */
export function dataDirError(dataDir: string, err: unknown): ConfigError {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const why = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'it is not a directory'
    : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied'
    : e.code === 'EROFS' || e.code === 'SQLITE_READONLY' ? 'the file system is read-only'
    : e.code === 'ENOSPC' || e.code === 'SQLITE_FULL' ? 'the disk is full'
    : e.code === 'ENOENT' ? 'a directory cannot be created there'
    : e.message;
  return new ConfigError(`--data-dir ${dataDir}: cannot use it (${why}${e.code && !why.includes(e.code) ? `, ${e.code}` : ''})`, {
    hint: 'the data dir must be a directory this user can write, on a disk with free space',
  });
}
