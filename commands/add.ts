import { Args } from '@oclif/core';
import { runAdd } from '../src/cli/client-ops.js';
import { ClientCommand } from './base.js';

export default class Add extends ClientCommand {
  static override summary = 'Add to the integer at one address';
  static override description = 'Adds DELTA (default 1; a negative one after --, as in `add 3 -- -2`) to the decimal integer at ADDR (never written counts as 0), linearizably, and prints the new value. Exits 1 with the current value printed when the value is not an integer or the sum would pass ±(2^53−1) (nothing changed); 3 when the outcome is unknown.';
  static override examples = ['<%= config.bin %> add 7', '<%= config.bin %> add 7 10 --json', '<%= config.bin %> add 7 -- -1'];
  static override args = {
    addr: Args.string({ description: 'address: a non-negative integer', required: true, ignoreStdin: true }),
    delta: Args.string({ description: 'an integer within ±(2^53−1); default 1', required: false, ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Add);
    await runAdd({ addr: args.addr, delta: args.delta }, flags);
  }
}
