import type { MemberList } from '../../src/daemon/status-doc.js';
import { renderMembers } from '../../src/cli/member-view.js';
import { ClientCommand } from '../base.js';

export default class MemberList_ extends ClientCommand {
  static override summary = 'List the members of the cluster: id, address, state (voting, joining, leaving) and epoch';
  static override description = 'Asks the first endpoint that answers for its member set. During a change both the old and the new members are listed: voting (in both), joining (in the new set only, being filled by the state transfer) and leaving (in the old set only).';
  static override examples = ['<%= config.bin %> member list', '<%= config.bin %> member list --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(MemberList_);
    const client = this.client(flags);
    try {
      const { body, endpoint } = await client.getJson('/members');
      if (flags.json) process.stdout.write(`${JSON.stringify({ endpoint, ...(body as object) })}\n`);
      else process.stdout.write(renderMembers(body as MemberList));
    } finally {
      client.close();
    }
  }
}
