import { Args, Flags } from '@oclif/core';
import { restoreDatabase } from '../src/storage/backup.js';
import { plural } from '../src/format.js';
import { ShmemCommand } from './base.js';

export default class Restore extends ShmemCommand {
  static override summary = 'Prepare a data directory from a backup';
  static override description =
    'Copies FILE into an empty --data-dir. The restored node gets a new node id and, when started with the same ' +
    '--port/--peers as before, first recovers from a majority of the other members (like a wiped node) before its ' +
    'replica counts, so writes made after the backup are not lost.';
  static override examples = ['<%= config.bin %> restore /backups/shmem-2026-11-23.db --data-dir /var/lib/shmem'];
  static override args = { file: Args.string({ description: 'a file written by `shmem backup`', required: true }) };
  static override flags = {
    'data-dir': Flags.string({ summary: 'empty or new data directory to prepare (env SHMEM_DATA_DIR)', env: 'SHMEM_DATA_DIR', required: true }),
    json: Flags.boolean({ summary: 'Print machine-readable JSON', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Restore);
    this.jsonOutput = flags.json;
    const r = restoreDatabase(args.file, flags['data-dir']);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } else {
      process.stdout.write(`ok: restored ${plural(r.addresses, 'address', 'addresses')} into ${r.file}\n` +
        'Start the node with its usual settings: it copies newer data from the other members before it answers as a replica.\n');
    }
  }
}
