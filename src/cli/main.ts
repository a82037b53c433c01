import { exitQuietlyOnClosedPipe } from './closed-pipe.js';
import { fastPath } from './fast.js';
import { standInForUser } from './user-env.js';

// Builtins as CommonJS: their ESM imports cost a few milliseconds each (see client-ops.ts).
const module = process.getBuiltinModule('node:module');
const { homedir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

/**
 * CLI entry point of a checkout (bin/shmem): the fast path for read/write/--version, else
 * oclif with the package root two levels up (build/src/cli -> root). Compiled code is cached
 * under ~/.cache/shmem (V8's compile cache), so later calls skip most of the parsing.
 */
try {
  module.enableCompileCache?.(join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'shmem', 'compile-cache'));
} catch {
  // no writable cache: start a little slower, that is all
}
exitQuietlyOnClosedPipe();
if (!(await fastPath(process.argv.slice(2)))) {
  standInForUser(); // before the full CLI loads: some of it asks for the home directory as it loads
  const { runOclif } = await import('./run.js');
  await runOclif(new URL('../../../package.json', import.meta.url).pathname);
}
