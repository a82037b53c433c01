import type { MemberList } from '../daemon/status-doc.js';
import { plural } from '../format.js';

/** The member table of `shmem member list` and of the member commands' answers. */
export function renderMembers(l: MemberList): string {
  const rows = [
    ['ID', 'ADDRESS', 'STATE', 'NODE', 'HEALTH'],
    ...l.members.map((m) => [m.id, m.address, m.state, m.nodeId ?? '?', m.health]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const head = l.phase === 'stable'
    ? `cluster ${l.clusterId}, epoch ${l.epoch}: ${plural(l.members.length, 'member')}`
    : `cluster ${l.clusterId}, changing to epoch ${l.epoch}: reads and writes need a majority of the old and of the new members` +
      (l.transfer && l.transfer.epoch === l.epoch ? ` (state transfer: ${plural(l.transfer.registers, 'register')} copied${l.transfer.cursor === null ? '' : `, up to address ${l.transfer.cursor}`})` : '');
  return [head, '', ...table, ''].join('\n');
}
