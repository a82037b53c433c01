import { Args } from '@oclif/core';
import { parseAddrText } from '../src/core/addr.js';
import { formatTag } from '../src/core/tag.js';
import { ClientCommand } from './base.js';

export default class Read extends ClientCommand {
  static override summary = 'Linearizable read of one address';
  static override description = 'Prints the value stored at ADDR (nothing, with a note on stderr, if it was never written). Tries each endpoint in turn until one answers.';
  static override examples = ['<%= config.bin %> read 3', '<%= config.bin %> read 3 --json --endpoints http://127.0.0.1:3031'];
  static override args = { addr: Args.string({ description: 'address: a non-negative integer', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Read);
    this.jsonOutput = flags.json;
    const parsed = parseAddrText(args.addr);
    if (!parsed.ok) this.usage(parsed.message);
    const client = this.client(flags);
    try {
      const r = await client.read(parsed.addr);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ addr: r.addr, value: r.value, tag: r.tag, endpoint: r.endpoint })}\n`);
      } else if (r.value === null) {
        process.stderr.write(`address ${r.addr} has never been written\n`);
      } else {
        process.stdout.write(`${r.value}\n`);
        if (process.stderr.isTTY) process.stderr.write(`(tag ${formatTag(r.tag)} via ${r.endpoint})\n`);
      }
    } finally {
      client.close();
    }
  }
}
