import { Args, Flags } from '@oclif/core';
import { backupDatabase } from '../src/storage/backup.js';
import { plural } from '../src/format.js';
import { ShmemCommand } from './base.js';

export default class Backup extends ShmemCommand {
  static override summary = "Write a consistent snapshot of a node's database to FILE, while it runs";
  static override description = 'Run on the node\'s machine. The snapshot is one committed state of the database (SQLite VACUUM INTO). Restore it with `shmem restore`.';
  static override examples = ['<%= config.bin %> backup /backups/shmem-$(date +%F).db --data-dir /var/lib/shmem'];
  static override args = { file: Args.string({ description: 'the backup file to create (must not exist)', required: true }) };
  static override flags = {
    'data-dir': Flags.string({ summary: 'data directory of the node (env SHMEM_DATA_DIR)', env: 'SHMEM_DATA_DIR', required: true }),
    json: Flags.boolean({ summary: 'Print machine-readable JSON', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Backup);
    this.jsonOutput = flags.json;
    const r = backupDatabase(flags['data-dir'], args.file);
    if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`ok: wrote ${r.file} (${plural(r.addresses, 'address', 'addresses')}, ${r.bytes} bytes)\n`);
  }
}
