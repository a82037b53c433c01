import { Args } from '@oclif/core';
import { CHANGE_TIMEOUT_MS, runChange } from '../../src/cli/member-change.js';
import { ClientCommand } from '../base.js';

export default class MemberReplace extends ClientCommand {
  static override summary = 'Replace a member (a dead machine, or a mistyped address) by a new node, in one change';
  static override description = 'Start the new node first with `shmem start --join`. OLD may be down and its data gone: the others hold it. One change removes OLD and adds NEW; a majority of the current members must be up. Needs the admin role.';
  static override examples = ['<%= config.bin %> member replace 10.0.0.3:3030 10.0.0.9:3030'];
  static override args = {
    old: Args.string({ description: 'node id, host:port or URL of the member to replace', required: true }),
    new: Args.string({ description: 'host:port (or http(s)://host:port) of the new node', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MemberReplace);
    const client = this.client(flags, Math.max(flags['timeout-ms'], CHANGE_TIMEOUT_MS));
    try {
      await runChange(client, { action: 'replace', member: args.old, address: args.new }, flags.json);
    } finally {
      client.close();
    }
  }
}
