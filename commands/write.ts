import { Args } from '@oclif/core';
import { parseAddrText } from '../src/core/addr.js';
import { formatTag } from '../src/core/tag.js';
import { ClientCommand } from './base.js';

export default class Write extends ClientCommand {
  static override summary = 'Linearizable write of one address';
  static override description = 'Stores VALUE at ADDR once a majority of the members have it durably. Tries each endpoint in turn until one completes it.';
  static override examples = ['<%= config.bin %> write 3 foo', '<%= config.bin %> write 3 "hello world" --json'];
  static override args = {
    addr: Args.string({ description: 'address: a non-negative integer', required: true }),
    value: Args.string({ description: 'the string to store', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Write);
    this.jsonOutput = flags.json;
    const parsed = parseAddrText(args.addr);
    if (!parsed.ok) this.usage(parsed.message);
    const client = this.client(flags);
    try {
      const r = await client.write(parsed.addr, args.value);
      if (flags.json) process.stdout.write(`${JSON.stringify({ addr: r.addr, tag: r.tag, endpoint: r.endpoint })}\n`);
      else process.stdout.write(`ok: wrote address ${r.addr} (tag ${formatTag(r.tag)} via ${r.endpoint})\n`);
    } finally {
      client.close();
    }
  }
}
