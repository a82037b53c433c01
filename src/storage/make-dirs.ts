import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Deepest chain of missing directories created at once (a bound on the walk). */
const DEPTH_MAX = 64;

/**
 * Creates `dir` and its missing parents, one level at a time, each checked, with `mode`.
 * Node's recursive mkdir retries forever where a parent cannot hold directories (under
 * /proc, mkdir says ENOENT although the parent exists), spinning a core at 100%: a data dir
 * or cache dir there hung `shmem start` and `shmem --version`. This fails with the error instead.
 */
export function makeDirs(dir: string, mode = 0o700, depth = 0): void {
  try {
    if (statSync(dir).isDirectory()) return;
    throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = dirname(dir);
  if (parent === dir || depth >= DEPTH_MAX) throw Object.assign(new Error(`cannot create ${dir}`), { code: 'ENOENT' });
  makeDirs(parent, mode, depth + 1);
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
