/**
 * The main script injected into the shmem executable (Node single executable application).
 *
 * Node 24 runs an injected main script as CommonJS, while the CLI is ESM with top-level await
 * (ink, yoga-layout). So this bootstrap unpacks the assets it carries (the fast-path bundle,
 * the full CLI bundle and the better-sqlite3 native addon) into a cache directory named after
 * their digest (computed at build time and carried as another asset), then imports the fast
 * bundle from there, which handles read/write/--version itself and loads the full one for
 * anything else. Files are written once (to temporary names, then renamed) and reused while
 * their sizes match; V8's compile cache lives beside them, so later starts skip most parsing.
 *
 * Cache directory, first that works: $SHMEM_CACHE_DIR, $CACHE_DIRECTORY (systemd
 * CacheDirectory=), $XDG_CACHE_HOME/shmem, ~/.cache/shmem, <tmpdir>/shmem-<uid>.
 */
import { chmodSync, renameSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset, getRawAsset } from 'node:sea';
import { pathToFileURL } from 'node:url';
import { makeDirs } from '../storage/make-dirs.js';

const ASSETS = ['fast.mjs', 'shmem.mjs', 'better_sqlite3.node'] as const;
/** The bundle the executable starts with. */
const ENTRY = 'fast.mjs';

function candidateDirs(): string[] {
  const env = process.env;
  const dirs = [env['SHMEM_CACHE_DIR'], env['CACHE_DIRECTORY']?.split(':')[0], env['XDG_CACHE_HOME'] && join(env['XDG_CACHE_HOME'], 'shmem')];
  try {
    dirs.push(join(homedir(), '.cache', 'shmem'));
  } catch {
    // no home directory (system users): skip
  }
  dirs.push(join(tmpdir(), `shmem-${process.getuid?.() ?? 'user'}`));
  return dirs.filter((d): d is string => typeof d === 'string' && d !== '');
}

/** Writes the assets under dir/<hash>/ unless identical copies are there; returns that folder. */
function unpack(dir: string, files: Map<string, ArrayBuffer>, hash: string): string {
  const target = join(dir, hash);
  try {
    makeDirs(target);
  } catch (err) {
    throw new Error(`cannot create ${target} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const st = statSync(target);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${target} belongs to another user`);
  if ((st.mode & 0o022) !== 0) chmodSync(target, 0o700);
  for (const [name, content] of files) {
    const path = join(target, name);
    if (sizeOf(path) === content.byteLength) continue;
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, new Uint8Array(content), { mode: 0o600 });
    renameSync(temp, path);
  }
  return target;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

function main(): void {
  // Views on the executable's own memory (getRawAsset copies nothing; getAsset would copy 5 MB each start).
  const files = new Map(ASSETS.map((name) => [name, getRawAsset(name)]));
  const digest = getAsset('digest', 'utf8').trim();
  const problems: string[] = [];
  for (const dir of candidateDirs()) {
    let folder: string;
    try {
      folder = unpack(dir, files, digest);
    } catch (err) {
      problems.push(`${dir}: ${(err as Error).message}`);
      continue;
    }
    try {
      module.enableCompileCache?.(join(folder, 'v8-cache'));
    } catch {
      // no compile cache: every start parses the bundle again, that is all
    }
    (globalThis as { __SHMEM_SQLITE_ADDON__?: string }).__SHMEM_SQLITE_ADDON__ = join(folder, 'better_sqlite3.node');
    import(pathToFileURL(join(folder, ENTRY)).href).catch((err: unknown) => {
      process.stderr.write(`shmem: cannot start: ${(err as Error).message}\n`);
      process.exit(70);
    });
    return;
  }
  process.stderr.write(
    `shmem: cannot unpack the SQLite addon and CLI bundle to a writable cache directory:\n  ${problems.join('\n  ')}\n` +
    'Hint: set SHMEM_CACHE_DIR to a directory this user can write (under systemd: CacheDirectory=shmem).\n',
  );
  process.exit(70);
}

main();
