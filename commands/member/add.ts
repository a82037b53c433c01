import { Args } from '@oclif/core';
import { CHANGE_TIMEOUT_MS, runChange } from '../../src/cli/member-change.js';
import { ClientCommand } from '../base.js';

export default class MemberAdd extends ClientCommand {
  static override summary = 'Add a running node to the member set';
  static override description = 'Start the new node first, on an empty data dir, with `shmem start --join` naming a member. The member that takes the request agrees on the new member set with the others (a majority of the current members must be up), copies every register to the new set, then retires the old one; reads and writes go on meanwhile. Needs the admin role. Waits for the end (up to 10 minutes).';
  static override examples = ['<%= config.bin %> member add 10.0.0.4:3030'];
  static override args = { address: Args.string({ description: 'host:port (or http(s)://host:port) of the new node: its peer address', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MemberAdd);
    const client = this.client(flags, Math.max(flags['timeout-ms'], CHANGE_TIMEOUT_MS));
    try {
      await runChange(client, { action: 'add', address: args.address }, flags.json);
    } finally {
      client.close();
    }
  }
}
