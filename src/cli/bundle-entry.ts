/**
 * Entry point of the single-file bundle (dist/app/shmem.mjs) that the executable runs.
 * oclif's "explicit" command strategy imports its target file to find COMMANDS; here the
 * target is this very bundle, so nothing is discovered on disk. package.json is inlined by
 * the bundler, so the executable needs no files besides itself.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pjson from '../../package.json' with { type: 'json' };
import { runOclif } from './run.js';

export { COMMANDS } from '../../commands/index.js';

const BUNDLE_FILE = 'shmem.mjs';

// Not awaited: oclif imports this module (to read COMMANDS) while it runs, which would
// deadlock on our own top-level await.
void runOclif({
  root: dirname(fileURLToPath(import.meta.url)),
  isRoot: true,
  pjson: {
    ...pjson,
    oclif: { ...pjson.oclif, commands: { strategy: 'explicit', target: `./${BUNDLE_FILE}`, identifier: 'COMMANDS' } },
  } as never,
});
