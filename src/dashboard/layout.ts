/**
 * How the dashboard fits the terminal it is in (pure, tested in test/dashboard): which
 * columns a table keeps and how wide each is, and how many rows each panel gets, so that the
 * header with the verdict is always on screen, 80x24 shows every panel, and a bigger terminal
 * shows more.
 */

/** One column of a table: its bounds and how much it matters when room is short. */
export interface Column {
  readonly key: string;
  readonly title: string;
  /** Narrowest useful width; the column is dropped rather than made narrower. */
  readonly min: number;
  /** Widest it grows when there is room. */
  readonly max: number;
  /** The width its content asks for (its widest cell); it grows to this, not beyond (default: max). */
  readonly want?: number;
  /** Columns with the lowest priority go first when the table does not fit. */
  readonly priority: number;
  readonly align?: 'left' | 'right';
}

/** A kept column and its width. */
export interface FittedColumn extends Column {
  readonly width: number;
}

/** Space between columns. */
export const COLUMN_GAP = 2;

/**
 * The columns that fit `width`, in their order: drops the lowest-priority ones until the
 * narrowest widths fit, then gives the room left to the columns in priority order, each up to
 * what its content wants (within its max). Predictable: the same data at the same width
 * gives the same columns; which column goes first when room is short never depends on data.
 */
export function fitColumns(columns: readonly Column[], width: number): FittedColumn[] {
  let kept = [...columns];
  const need = (cs: readonly Column[]): number => cs.reduce((n, c) => n + c.min, 0) + COLUMN_GAP * Math.max(0, cs.length - 1);
  while (kept.length > 1 && need(kept) > width) {
    const lowest = kept.reduce((lo, c) => (c.priority < lo.priority ? c : lo));
    kept = kept.filter((c) => c !== lowest);
  }
  const widths = new Map(kept.map((c) => [c.key, c.min]));
  let room = width - need(kept);
  for (const c of [...kept].sort((a, b) => b.priority - a.priority)) {
    if (room <= 0) break;
    const grow = Math.min(room, Math.max(0, Math.min(c.max, c.want ?? c.max) - c.min));
    widths.set(c.key, c.min + grow);
    room -= grow;
  }
  return kept.map((c) => ({ ...c, width: Math.max(1, Math.min(widths.get(c.key)!, width)) }));
}

/** `text` in exactly `width` columns: cut with an ellipsis, or padded. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const chars = [...text];
  const cut = chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text;
  const pad = ' '.repeat(Math.max(0, width - [...cut].length));
  return align === 'right' ? pad + cut : cut + pad;
}

/** Rows of data each panel shows. */
export interface RowBudget {
  readonly peers: number;
  readonly traffic: number;
  readonly tags: number;
}

/**
 * Splits the terminal's rows: the header (1 line), a no-quorum banner when there is one, the
 * footer (1 line), then per panel a title line and a column-header line around its data rows.
 * Peers and traffic get a row per member while room lasts (at least 1 each); tags get the rest
 * (at least 1). A panel whose data does not fit scrolls.
 */
export function planRows(terminalRows: number, members: number, banner: boolean): RowBudget {
  const fixed = 1 + (banner ? 1 : 0) + 1 + 3 * 2;
  let room = Math.max(3, terminalRows - fixed);
  const peers = Math.max(1, Math.min(members, room - 2));
  room -= peers;
  const traffic = Math.max(1, Math.min(members, room - 1));
  room -= traffic;
  return { peers, traffic, tags: Math.max(1, room) };
}
