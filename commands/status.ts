import type { StatusDoc } from '../src/daemon/status-doc.js';
import { formatTag } from '../src/core/tag.js';
import { formatBytes, plural } from '../src/format.js';
import type { PeerLag } from '../src/core/catchup.js';
import { age } from '../src/daemon/redundancy.js';
import { ClientCommand } from './base.js';

export default class Status extends ClientCommand {
  static override summary = 'Show the cluster as one node sees it';
  static override description = 'Asks the first endpoint that answers for its /status: this node, every member and whether it serves as a replica now, and a verdict that follows what reads and writes can do: "quorum ok" (every member serves), "degraded" (a quorum serves, with less redundancy) or "no quorum" (reads and writes fail), with the reason for each member that does not serve; how far the catch-up of this node is from each member, and whether some acknowledged writes may be on fewer than all members (docs/catch-up.md). Exits 0 while a quorum serves (ok or degraded), 1 otherwise, so monitoring can call it.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json --endpoints http://127.0.0.1:3031'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const client = this.client(flags);
    try {
      const { body, endpoint } = await client.getJson('/status');
      const s = body as StatusDoc;
      if (flags.json) process.stdout.write(`${JSON.stringify({ endpoint, ...s })}\n`);
      else process.stdout.write(renderStatus(s));
      if (!s.cluster.hasQuorum) process.exitCode = 1;
    } finally {
      client.close();
    }
  }
}

/** The human form of a status document: node, data, members table, verdict. */
export function renderStatus(s: StatusDoc): string {
  const condition = new Map(s.cluster.unavailable.map((u) => [u.member, u.condition]));
  const serves = (m: string): string => (condition.has(m) ? `no: ${condition.get(m)}` : 'yes');
  const lag = new Map((s.catchup?.behind ?? []).map((l) => [l.peer, l]));
  const rows = [
    ['MEMBER', 'STATE', 'SERVES', 'NODE', 'LAST CONTACT', 'RTT', 'CATCH-UP FROM IT'],
    [s.node.member, s.node.recovering ? 'self, recovering' : 'self', serves(s.node.member), s.node.id, '-', '-', '-'],
    ...s.peers.map((p) => [
      p.member, p.recovering ? `${p.state}, recovering` : p.state, serves(p.member),
      p.nodeId ?? '?',
      p.lastContactMsAgo === null ? 'never' : `${(p.lastContactMsAgo / 1000).toFixed(1)}s ago`,
      p.rttMs === null ? '-' : `${p.rttMs.toFixed(1)}ms`,
      catchupCell(lag.get(p.member)),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const store = s.store;
  const lines = [
    `node ${s.node.id} at ${s.node.member} (shmem ${s.node.version}, up ${(s.node.uptimeMs / 1000).toFixed(0)}s, incarnation ${s.node.incarnation})`,
    `data ${s.node.dataDir ?? '(dir shown to admins)'}: ${plural(store.addresses, 'address', 'addresses')}, ${formatBytes(store.dbBytes)}, highest tag ${store.highestTag ? formatTag(store.highestTag) : 'none'}`,
    ...(store.health.ok ? [] : [`store UNAVAILABLE: ${store.health.reason}`]),
    ...(store.damaged > 0 ? [`${plural(store.damaged, 'damaged register')} waiting for repair from the other members`] : []),
    ...(s.node.recovery && s.node.recovering ? [recoveryLine(s.node.recovery)] : []),
    '',
    ...table,
    '',
    s.cluster.verdict,
    ...(s.catchup ? [s.catchup.redundancy.text] : []),
    opsLine(s.ops),
    '',
  ];
  return lines.join('\n');
}

/** What this node coordinated since it started. */
function opsLine(o: StatusDoc['ops']): string {
  const rmw = o.rmws === undefined ? '' : `, ${plural(o.rmws, 'cas/add', 'cas/adds')} (${o.rmwRefused} refused: value not as expected; ${o.rmwRetries} attempts preempted and retried)`;
  return `operations through this node: ${plural(o.reads, 'read')}, ${plural(o.writes, 'write')}${rmw}, ${plural(o.failures, 'failure')}`;
}

/** Where this node's recovery of a wiped data dir stands (docs/recovery.md). */
function recoveryLine(r: NonNullable<StatusDoc['node']['recovery']>): string {
  if (r.beyondBudget && r.explanation !== null) return `RECOVERY STUCK: ${r.explanation}`;
  if (r.phase === 'probe') return 'recovering: waiting one operation deadline before copying the other members';
  if (r.phase === 'accept') return 'recovering: finishing with the loss accepted by an operator';
  const waiting = r.recoveringOthers.length > 0 ? ` (${r.recoveringOthers.join(', ')} recovering too)` : '';
  return `recovering: ${r.sourcesDone.length}/${r.sourcesNeeded} other members copied${waiting}`;
}

/** Catch-up asks every 250 ms, or after a backoff of at most 2 s: no answer for longer is news. */
const STALE_ANSWER_MS = 5_000;

/** This node's catch-up from one peer: "current", "1,204 changes to compare (oldest 42 s)", "comparing everything". */
export function catchupCell(l: PeerLag | undefined): string {
  if (l === undefined || l.changes === null) return 'not yet';
  // What it said last is old news: the member has not answered catch-up for a while (down, paused).
  if (l.lastAnswerAgeMs !== null && l.lastAnswerAgeMs > STALE_ANSWER_MS) return `no answer for ${age(l.lastAnswerAgeMs / 1000)}`;
  const what = l.changes === 0 ? 'current' : `${plural(l.changes, 'change')} to compare${l.seconds !== null && l.seconds >= 1 ? ` (oldest ${age(l.seconds)})` : ''}`;
  return l.mode === 'comparing' ? `comparing everything (${plural(l.compared, 'register')} so far)` : what;
}
