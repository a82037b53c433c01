import { Args, Flags } from '@oclif/core';
import { runRead } from '../src/cli/client-ops.js';
import { ClientCommand } from './base.js';

export default class Read extends ClientCommand {
  static override summary = 'Linearizable read of one address';
  static override description = 'Prints the value stored at ADDR and a newline (nothing, with a note on stderr, if it was never written); --output FILE writes the value exactly, with no newline. Tries each endpoint in turn until one answers.';
  static override examples = ['<%= config.bin %> read 3', '<%= config.bin %> read 3 --json --endpoints http://127.0.0.1:3031', '<%= config.bin %> read 3 --output value.bin'];
  static override args = { addr: Args.string({ description: 'address: a non-negative integer', required: true, ignoreStdin: true }) };
  static override flags = {
    output: Flags.string({ summary: 'Write the value, exactly as stored, to this file (mode 0600) instead of printing it' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Read);
    await runRead({ addr: args.addr, output: flags.output }, flags);
  }
}
