import type { MemberList } from '../src/daemon/status-doc.js';
import type { PeerRepairReport } from '../src/daemon/catchup-runner.js';
import { memberUrl } from '../src/config/members.js';
import { plural } from '../src/format.js';
import { ClientCommand } from './base.js';

/** Comparing every register with every member may take minutes on a big store. */
const REPAIR_TIMEOUT_MS = 600_000;

interface NodeReport {
  readonly member: string;
  readonly peers: readonly PeerRepairReport[];
  readonly fixed: number;
  readonly ms: number;
}

export default class Repair extends ClientCommand {
  static override summary = 'Compare every register of every member with the others now, and fix what is behind';
  static override description = 'Catch-up runs by itself in the background (docs/catch-up.md): every member pulls what the others changed. This runs a full comparison now, on every member of the cluster in turn: each compares the tag of every address with every other member and stores what is newer there. Prints, per member, how many registers it compared and fixed. Needs the admin role. Exits 1 when a member could not be repaired.';
  static override examples = ['<%= config.bin %> repair', '<%= config.bin %> repair --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Repair);
    const client = this.client(flags, Math.max(flags['timeout-ms'], REPAIR_TIMEOUT_MS));
    try {
      const { body, endpoint } = await client.getJson('/members');
      const list = body as MemberList;
      const tls = endpoint.startsWith('https:');
      const reports: (NodeReport | { member: string; error: string })[] = [];
      for (const m of list.members) {
        try {
          reports.push(await client.postJsonAt(memberUrl(m.address, tls), '/repair', {}) as NodeReport);
        } catch (err) {
          reports.push({ member: m.address, error: (err as Error).message });
        }
      }
      if (reports.some((r) => 'error' in r || r.peers.some((p) => p.error !== undefined))) process.exitCode = 1;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ endpoint, members: reports })}\n`);
        return;
      }
      process.stdout.write(renderRepair(reports));
    } finally {
      client.close();
    }
  }
}

/** One line per member and peer: compared, fixed, or why not. */
export function renderRepair(reports: readonly (NodeReport | { member: string; error: string })[]): string {
  const lines: string[] = [];
  let fixed = 0;
  for (const r of reports) {
    if ('error' in r) {
      lines.push(`${r.member}: not repaired: ${r.error}`);
      continue;
    }
    fixed += r.fixed;
    lines.push(`${r.member}: ${plural(r.fixed, 'register')} fixed (${(r.ms / 1000).toFixed(1)} s)`);
    for (const p of r.peers) {
      lines.push(p.error !== undefined
        ? `  from ${p.peer}: FAILED after ${plural(p.compared, 'register')} compared: ${p.error}`
        : `  from ${p.peer}: ${plural(p.compared, 'register')} compared, ${p.fixed} fixed`);
    }
  }
  lines.push('', `${plural(fixed, 'register')} fixed in all`, '');
  return lines.join('\n');
}
