import { Args, Flags } from '@oclif/core';
import { runWrite } from '../src/cli/client-ops.js';
import { ClientCommand } from './base.js';

export default class Write extends ClientCommand {
  static override summary = 'Linearizable write of one address';
  static override description = 'Stores a value at ADDR once a majority of the members have it durably. The value comes from exactly one place: the VALUE argument, - (standard input, read to its end: `shmem write 3 - < file`), or --file PATH; it is stored byte for byte (a trailing newline included) and must be UTF-8. Tries each endpoint in turn until one completes it.';
  static override examples = [
    '<%= config.bin %> write 3 foo',
    '<%= config.bin %> write 3 "hello world" --json',
    'generate-config | <%= config.bin %> write 7 -',
    '<%= config.bin %> write 8 --file ./big-value.json',
  ];
  static override args = {
    addr: Args.string({ description: 'address: a non-negative integer', required: true, ignoreStdin: true }),
    value: Args.string({ description: 'the string to store, or - to read it from standard input', required: false, ignoreStdin: true }),
  };
  static override flags = {
    file: Flags.string({ summary: 'Read the value from this file (byte for byte; at most 64 MiB)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Write);
    await runWrite({ addr: args.addr, value: args.value, file: flags.file }, flags);
  }
}
