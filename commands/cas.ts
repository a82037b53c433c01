import { Args, Flags } from '@oclif/core';
import { runCas } from '../src/cli/client-ops.js';
import { ClientCommand } from './base.js';

export default class Cas extends ClientCommand {
  static override summary = 'Compare-and-set one address';
  static override description = 'Stores VALUE at ADDR only if it holds EXPECT now (or was never written: --expect-absent; or still has the tag a read printed: --expect-tag SEQ@WRITER), linearizably with every other read, write, cas and add of the address. Exits 0 when it swapped; 1 with the current value printed when it did not (nothing changed); 3 when the outcome is unknown. VALUE comes from the argument, - (standard input) or --file, as for write.';
  static override examples = [
    '<%= config.bin %> cas 3 --expect-absent holder-a        # take a lock that nobody holds',
    '<%= config.bin %> cas 3 holder-a free                   # release it, if we still hold it',
    '<%= config.bin %> cas 5 --expect-tag 7@5f2c9a1e.1 - < new.json',
  ];
  static override args = {
    addr: Args.string({ description: 'address: a non-negative integer', required: true, ignoreStdin: true }),
    expect: Args.string({ description: 'the value ADDR must hold (omit it with --expect-absent or --expect-tag)', required: false, ignoreStdin: true }),
    value: Args.string({ description: 'the string to store, or - to read it from standard input', required: false, ignoreStdin: true }),
  };
  static override flags = {
    'expect-absent': Flags.boolean({ summary: 'Swap only if ADDR was never written' }),
    'expect-tag': Flags.string({ summary: 'Swap only if ADDR still has this tag (SEQ@WRITER, as read prints it)' }),
    file: Flags.string({ summary: 'Read the new value from this file (byte for byte; at most 64 MiB)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Cas);
    await runCas({ addr: args.addr, args: [args.expect, args.value], expectAbsent: flags['expect-absent'], expectTag: flags['expect-tag'], file: flags.file }, flags);
  }
}
