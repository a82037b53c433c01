import { Flags } from '@oclif/core';
import { ROLES, type Role } from '../../src/security/roles.js';
import { createToken } from '../../src/security/tokens.js';
import { ShmemCommand } from '../base.js';

export default class TokenCreate extends ShmemCommand {
  static override summary = 'Make a new client token and the line that grants it in the auth file';
  static override description =
    'Prints the token (give it to the client: SHMEM_TOKEN or --token) and a line to append to every node\'s ' +
    '--auth-file; the file keeps only an scrypt hash. Then send SIGHUP to the nodes (systemctl reload shmem). ' +
    'Roles: read (GET /read, /tags, /status, /metrics), write (read + POST /write), admin (everything, ' +
    'with /status details). Revoke a token by deleting its line and sending SIGHUP.';
  static override examples = [
    '<%= config.bin %> token create --role write --name ci-writer',
    '<%= config.bin %> token create --role read --name prometheus --json',
  ];
  static override flags = {
    role: Flags.string({ summary: 'what the token may do', options: [...ROLES], required: true }),
    name: Flags.string({ summary: 'a name for logs (letters, digits, . _ @ -)', default: 'client' }),
    json: Flags.boolean({ summary: 'Print machine-readable JSON', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TokenCreate);
    this.jsonOutput = flags.json;
    const { token, line, entry } = await createToken(flags.role as Role, flags.name);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ id: entry.id, role: entry.role, name: entry.name, token, authFileLine: line })}\n`);
      return;
    }
    process.stdout.write([
      `token (shown once; give it to the client as SHMEM_TOKEN): ${token}`,
      'append this line to the --auth-file of every node, then send them SIGHUP:',
      line,
      '',
    ].join('\n'));
  }
}
