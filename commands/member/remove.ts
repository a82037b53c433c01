import { Args } from '@oclif/core';
import { CHANGE_TIMEOUT_MS, runChange } from '../../src/cli/member-change.js';
import { ClientCommand } from '../base.js';

export default class MemberRemove extends ClientCommand {
  static override summary = 'Remove a member (by node id or host:port)';
  static override description = 'The removed member stops answering as a replica once the change is done and says so in its log, /readyz and status; stop it then. A majority of the current members must be up. Needs the admin role.';
  static override examples = ['<%= config.bin %> member remove 10.0.0.3:3030', '<%= config.bin %> member remove 3f2a9c1d'];
  static override args = { member: Args.string({ description: 'node id, host:port or URL of the member', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MemberRemove);
    const client = this.client(flags, Math.max(flags['timeout-ms'], CHANGE_TIMEOUT_MS));
    try {
      await runChange(client, { action: 'remove', member: args.member }, flags.json);
    } finally {
      client.close();
    }
  }
}
