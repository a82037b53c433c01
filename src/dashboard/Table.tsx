import { Text } from 'ink';
import { COLUMN_GAP, fit, type Column, type FittedColumn } from './layout.js';

/** One cell: its text and how it is drawn. */
export interface Cell {
  readonly text: string;
  readonly color?: string | undefined;
  readonly bold?: boolean;
}

export interface TableRow {
  readonly key: string;
  readonly cells: Readonly<Record<string, Cell | string>>;
}

const GAP = ' '.repeat(COLUMN_GAP);

/** The columns with what their content wants: the widest of the title and the cells (sparklines excepted). */
export function wanting(columns: readonly Column[], rows: readonly TableRow[], elastic: readonly string[] = []): Column[] {
  return columns.map((c) => (elastic.includes(c.key) ? c : {
    ...c,
    want: Math.max([...c.title].length, ...rows.map((r) => {
      const cell = r.cells[c.key];
      return [...(typeof cell === 'string' ? cell : cell?.text ?? '')].length;
    })),
  }));
}

/**
 * A table of fitted columns (layout.ts): one line per row, every cell cut to its column, so
 * nothing wraps whatever the terminal's width. Shows `rows[offset…offset+height)`.
 */
export function Table({ columns, rows, offset = 0, height }: { columns: readonly FittedColumn[]; rows: readonly TableRow[]; offset?: number; height: number }) {
  const shown = rows.slice(offset, offset + height);
  return (
    <>
      <Text dimColor wrap="truncate">{columns.map((c) => fit(c.title, c.width, c.align)).join(GAP)}</Text>
      {shown.map((r) => (
        <Text key={r.key} wrap="truncate">
          {columns.map((c, i) => {
            const raw = r.cells[c.key] ?? '';
            const cell: Cell = typeof raw === 'string' ? { text: raw } : raw;
            return <Text key={c.key} color={cell.color} bold={cell.bold}>{i > 0 ? GAP : ''}{fit(cell.text, c.width, c.align)}</Text>;
          })}
        </Text>
      ))}
    </>
  );
}
