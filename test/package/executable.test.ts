import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, SHMEM_BIN, tempDir } from '../helpers/cluster.js';

// Runs in the second pass of scripts/run-tests.mjs, against the single executable.
const test = suite(`single executable (${SHMEM_BIN})`);

test('the executable unpacks its bundle and SQLite addon once, into a private cache directory', async () => {
  const cache = tempDir('shmem-cache-');
  const first = await runCli(['--version'], { SHMEM_CACHE_DIR: cache });
  assert.is(first.code, 0, first.stderr);
  const [folder] = readdirSync(cache);
  assert.ok(folder, 'a folder named after the content hash');
  const dir = join(cache, folder!);
  assert.equal(readdirSync(dir).filter((f) => f !== 'v8-cache').sort(), ['better_sqlite3.node', 'fast.mjs', 'shmem.mjs']);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  const mtime = statSync(join(dir, 'shmem.mjs')).mtimeMs;
  const second = await runCli(['--version'], { SHMEM_CACHE_DIR: cache });
  assert.is(second.code, 0);
  assert.is(statSync(join(dir, 'shmem.mjs')).mtimeMs, mtime, 'not rewritten when identical');
});

test('with no writable cache directory it says so, names what it tried, and exits 70', async () => {
  // Paths under a regular file cannot be created, even by root.
  const r = await runCli(['--version'], {
    SHMEM_CACHE_DIR: '/etc/hostname/a', XDG_CACHE_HOME: '/etc/hostname/b', HOME: '/etc/hostname', TMPDIR: '/etc/hostname',
  });
  assert.is(r.code, 70);
  assert.match(r.stderr, 'cannot unpack the SQLite addon');
  assert.match(r.stderr, '/etc/hostname/a');
  assert.match(r.stderr, 'SHMEM_CACHE_DIR');
  assert.not.match(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('under HOME=/proc and TMPDIR=/proc it exits 70 at once instead of spinning (recursive mkdir retried forever there)', async () => {
  const started = Date.now();
  const r = await runCli(['--version'], { HOME: '/proc', TMPDIR: '/proc', XDG_CACHE_HOME: '', SHMEM_CACHE_DIR: '/proc/foo' });
  assert.is(r.code, 70, r.stderr);
  assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
  assert.match(r.stderr, /\/proc\/foo: cannot create \/proc\/foo/);
});

test.run();
