import { formatTag } from '../src/core/tag.js';
import { ClientCommand } from './base.js';

interface PeerRow { member: string; state: string; nodeId: string | null; lastContactMsAgo: number | null; rttMs: number | null; recovering: boolean; error: string | null }
interface StatusDoc {
  node: { id: string; member: string; version: string; uptimeMs: number; dataDir?: string; incarnation: number; recovering: boolean; tls?: boolean };
  cluster: { size: number; quorum: number; up: number; hasQuorum: boolean; verdict: string };
  peers: PeerRow[];
  store: { addresses: number; dbBytes: number; highestTag: { seq: number; writer: string } | null };
}

export default class Status extends ClientCommand {
  static override summary = 'Show the cluster as one node sees it';
  static override description = 'Asks the first endpoint that answers for its /status. Exits 0 only when that node sees a quorum of members up, so monitoring can call it.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json --endpoints http://127.0.0.1:3031'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    this.jsonOutput = flags.json;
    const client = this.client(flags);
    try {
      const { body, endpoint } = await client.getJson('/status');
      const s = body as StatusDoc;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ endpoint, ...s })}\n`);
      } else {
        const rows = [
          ['MEMBER', 'STATE', 'NODE', 'MEMBER SET', 'LAST CONTACT', 'RTT'],
          [s.node.member, s.node.recovering ? 'self, recovering' : 'self', s.node.id, '-', '-', '-'],
          ...s.peers.map((p) => [
            p.member, p.recovering ? `${p.state}, recovering` : p.state, p.nodeId ?? '?',
            p.state === 'mismatch' ? 'DIFFERS' : p.lastContactMsAgo === null ? '?' : 'same',
            p.lastContactMsAgo === null ? 'never' : `${(p.lastContactMsAgo / 1000).toFixed(1)}s ago`,
            p.rttMs === null ? '-' : `${p.rttMs.toFixed(1)}ms`,
          ]),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
        process.stdout.write([
          `node ${s.node.id} at ${s.node.member} (shmem ${s.node.version}, up ${(s.node.uptimeMs / 1000).toFixed(0)}s, incarnation ${s.node.incarnation})`,
          `data ${s.node.dataDir ?? '(dir shown to admins)'}: ${s.store.addresses} addresses, ${(s.store.dbBytes / 1024).toFixed(0)} KiB, highest tag ${s.store.highestTag ? formatTag(s.store.highestTag) : 'none'}`,
          '',
          ...lines,
          '',
          s.cluster.verdict,
          '',
        ].join('\n'));
      }
      if (!s.cluster.hasQuorum) process.exitCode = 1;
    } finally {
      client.close();
    }
  }
}
