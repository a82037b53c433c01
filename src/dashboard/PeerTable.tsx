import { fitColumns, type Column } from './layout.js';
import { Table, wanting, type TableRow } from './Table.js';
import { formatAgo, formatMs, sparkline, type MemberView } from './view-model.js';

const STATE_COLOR: Record<string, string> = { self: 'green', up: 'green', starting: 'cyan', suspect: 'yellow', down: 'red', mismatch: 'magenta', unreachable: 'red' };

const COLUMNS: readonly Column[] = [
  { key: 'member', title: 'MEMBER', min: 14, max: 28, priority: 10 },
  { key: 'state', title: 'STATE', min: 16, max: 26, priority: 9 },
  { key: 'rtt', title: 'RTT', min: 7, max: 8, priority: 8, align: 'right' },
  { key: 'last', title: 'LAST CONTACT', min: 9, max: 13, priority: 6 },
  { key: 'catchup', title: 'CATCH-UP', min: 6, max: 22, priority: 4 },
  { key: 'node', title: 'NODE', min: 8, max: 8, priority: 5 },
  { key: 'history', title: 'RTT HISTORY', min: 8, max: 30, priority: 3 },
];

/** Peers: state (and what else is wrong), RTT with its history, last contact, and each one's catch-up from the others. */
export function PeerTable({ members, offset, height, width }: { members: readonly MemberView[]; offset: number; height: number; width: number }) {
  const cellsOf = (historyWidth: number): TableRow[] => members.map((m) => ({
    key: m.member,
    cells: {
      member: m.member,
      state: { text: [m.state, m.recovering ? 'recovering' : '', m.note ?? ''].filter((x) => x !== '').join(', '), color: m.note ? 'yellow' : STATE_COLOR[m.state] },
      node: m.nodeId ?? '?',
      rtt: m.state === 'self' ? '-' : formatMs(m.rttMs),
      history: { text: sparkline(m.rttHistoryMs, historyWidth), color: 'cyan' },
      last: m.state === 'self' ? '-' : formatAgo(m.lastContactMsAgo),
      catchup: { text: m.catchup ?? '?', color: m.catchup === 'ok' || m.catchup === '-' ? undefined : 'yellow' },
    },
  }));
  const columns = fitColumns(wanting(COLUMNS, cellsOf(0), ['history']), width);
  const rows = cellsOf(columns.find((c) => c.key === 'history')?.width ?? 0);
  return <Table columns={columns} rows={rows} offset={offset} height={height} />;
}
