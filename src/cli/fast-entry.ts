/**
 * Entry point of the executable's small bundle (dist/app/fast.mjs): the fast path of the
 * CLI (fast.ts) without oclif; anything else loads the full CLI bundle (shmem.mjs) beside it.
 */
import { exitQuietlyOnClosedPipe } from './closed-pipe.js';
import { fastPath } from './fast.js';
import { standInForUser } from './user-env.js';

/** The full bundle, beside this one in the unpacked cache folder; a variable, so the bundler leaves it out. */
const FULL_BUNDLE = './shmem.mjs';

exitQuietlyOnClosedPipe();
if (!(await fastPath(process.argv.slice(2)))) {
  standInForUser(); // before the full CLI loads: some of it asks for the home directory as it loads
  await import(new URL(FULL_BUNDLE, import.meta.url).href);
}
