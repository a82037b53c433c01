import { execute } from '@oclif/core';

/** CLI entry point: oclif with the package root two levels up (build/src/cli -> root). */
await execute({ dir: new URL('../../../package.json', import.meta.url).pathname });
