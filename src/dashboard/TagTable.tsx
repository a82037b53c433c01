import { fitColumns, type Column } from './layout.js';
import { Table, type TableRow } from './Table.js';
import { formatTagCell, shortMembers, type TagRow } from './view-model.js';

/**
 * Addresses with the tag each replica holds; replicas behind the newest tag are marked (in
 * yellow, with "behind" when the column has room, "*" when it does not).
 */
export function TagTable({ members, rows, height, width }: { members: readonly string[]; rows: readonly TagRow[]; height: number; width: number }) {
  const addrWidth = Math.max(4, ...rows.map((r) => String(r.addr).length));
  const names = shortMembers(members);
  const want = (i: number): number => Math.max(10, [...names[i]!].length, ...rows.map((r) => formatTagCell(r.tags[i] ?? null).length + (r.behind[i] ? 7 : 0)));
  const columns = fitColumns([
    { key: 'addr', title: 'ADDR', min: addrWidth, max: addrWidth, priority: 100 },
    ...members.map((m, i): Column => ({ key: m, title: names[i]!, min: 10, max: 26, want: want(i), priority: 50 - i })),
  ], width);
  const table: TableRow[] = rows.map((r) => ({
    key: String(r.addr),
    cells: {
      addr: String(r.addr),
      ...Object.fromEntries(members.map((m, i) => {
        const text = formatTagCell(r.tags[i] ?? null);
        const room = columns.find((c) => c.key === m)?.width ?? 0;
        const mark = !r.behind[i] ? '' : text.length + 7 <= room ? ' behind' : '*';
        return [m, { text: `${text}${mark}`, color: r.behind[i] ? 'yellow' : undefined, bold: r.behind[i] === true }];
      })),
    },
  }));
  if (rows.length === 0) return <Table columns={columns} rows={[{ key: 'none', cells: { addr: '-', [members[0] ?? 'x']: 'no addresses here yet' } }]} height={1} />;
  return <Table columns={columns} rows={table} height={height} />;
}
