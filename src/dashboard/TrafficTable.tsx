import { fitColumns, type Column } from './layout.js';
import { Table, wanting, type TableRow } from './Table.js';
import { formatMs, sparkline, type TrafficRow } from './view-model.js';

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

const COLUMNS: readonly Column[] = [
  { key: 'member', title: 'MEMBER', min: 12, max: 28, priority: 10 },
  { key: 'ops', title: 'OPS/S', min: 7, max: 8, priority: 9, align: 'right' },
  { key: 'fail', title: 'FAILED', min: 6, max: 7, priority: 8, align: 'right' },
  { key: 'read', title: 'READ p50/p99', min: 15, max: 17, priority: 7 },
  { key: 'write', title: 'WRITE p50/p99', min: 15, max: 17, priority: 7 },
  { key: 'opsHistory', title: 'OPS/S, LAST MINUTE', min: 10, max: 30, priority: 4 },
  { key: 'reads', title: 'READS/S', min: 8, max: 8, priority: 3, align: 'right' },
  { key: 'writes', title: 'WRITES/S', min: 8, max: 9, priority: 3, align: 'right' },
  { key: 'rmws', title: 'CAS+ADD/S', min: 9, max: 9, priority: 3, align: 'right' },
  { key: 'p99History', title: 'p99, LAST MINUTE', min: 10, max: 30, priority: 2 },
];

/** Traffic coordinated by each member: rates and their last minute, latency percentiles, quorum failures. */
export function TrafficTable({ rows, offset, height, width }: { rows: readonly TrafficRow[]; offset: number; height: number; width: number }) {
  const cellsOf = (w: (key: string) => number): TableRow[] => rows.map((r) => ({
    key: r.member,
    cells: {
      member: r.member,
      ops: num(r.readsPerSec === null || r.writesPerSec === null ? null : Math.round((r.readsPerSec + r.writesPerSec + (r.rmwsPerSec ?? 0)) * 10) / 10),
      rmws: num(r.rmwsPerSec),
      reads: num(r.readsPerSec),
      writes: num(r.writesPerSec),
      read: `${formatMs(r.readP50Ms)} / ${formatMs(r.readP99Ms)}`,
      write: `${formatMs(r.writeP50Ms)} / ${formatMs(r.writeP99Ms)}`,
      opsHistory: { text: sparkline(r.opsHistory ?? [], w('opsHistory'), true), color: 'cyan' },
      p99History: { text: sparkline(r.p99History ?? [], w('p99History'), true), color: 'magenta' },
      fail: { text: num(r.quorumFailures), color: (r.quorumFailures ?? 0) > 0 ? 'red' : undefined },
    },
  }));
  const columns = fitColumns(wanting(COLUMNS, cellsOf(() => 0), ['opsHistory', 'p99History']), width);
  const table = cellsOf((key) => columns.find((c) => c.key === key)?.width ?? 0);
  return <Table columns={columns} rows={table} offset={offset} height={height} />;
}
