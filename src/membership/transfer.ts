import { assert } from '../core/assert.js';
import type { RegisterPage } from '../core/recovery.js';
import { maxVersioned } from '../core/tag.js';
import type { Addr, MemberId, RegisterItem } from '../core/types.js';

/**
 * State transfer for a change of the member set (docs/membership.md, step 3), as a pure
 * state machine: page through the registers of `sourcesNeeded` of the old members, merge
 * them (the largest tag of each address), write each merged range to `targetsNeeded` of the
 * new members, and move the cursor only once they stored it durably. The cursor is all there
 * is to resume after a crash: a new Transfer from it copies the rest (copying again from an
 * earlier cursor is harmless: the replica rule keeps the larger tag).
 *
 * Pages of different members end at different addresses. After each page, the range every
 * one of `sourcesNeeded` members has covered is complete: everything up to the
 * sourcesNeeded-th furthest reach. Only that range is written; the rest stays buffered.
 */

export type TransferEffect =
  | { readonly type: 'fetch'; readonly from: MemberId; readonly after: Addr | null }
  /** Write `items` (the merged range up to `upTo`, null: the end) to every target; report each ack with onStored. */
  | { readonly type: 'write'; readonly items: readonly RegisterItem[]; readonly upTo: Addr | null }
  /** Every address up to `cursor` is on `targetsNeeded` targets: keep it durably to resume from. */
  | { readonly type: 'progress'; readonly cursor: Addr; readonly registers: number }
  | { readonly type: 'done'; readonly registers: number };

interface Source {
  /** Items fetched and not yet written, in address order. */
  buffer: RegisterItem[];
  /** How far this member's pages have reached: null before the first page, END after the last. */
  reach: Addr | null | typeof END;
  fetching: boolean;
}

const END = Symbol('end');

export class Transfer {
  private readonly sources = new Map<MemberId, Source>();
  private cursor: Addr | null;
  private writing: { upTo: Addr | null; acks: Set<MemberId>; count: number } | undefined;
  private copied = 0;
  private finished = false;

  constructor(
    sources: readonly MemberId[],
    private readonly sourcesNeeded: number,
    private readonly targets: readonly MemberId[],
    private readonly targetsNeeded: number,
    from: Addr | null = null,
  ) {
    assert(sourcesNeeded >= 1 && sourcesNeeded <= sources.length, 'sources needed within 1..sources');
    assert(targetsNeeded >= 1 && targetsNeeded <= targets.length, 'targets needed within 1..targets');
    for (const s of sources) this.sources.set(s, { buffer: [], reach: null, fetching: false });
    this.cursor = from;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Where a resumed transfer would start (null: from the beginning). */
  get position(): Addr | null {
    return this.cursor;
  }

  start(): TransferEffect[] {
    return [...this.sources.keys()].map((from) => this.fetch(from, this.cursor));
  }

  /** A page from `from`. Uninitialised members cannot be sources of a transfer: ask again later. */
  onPage(from: MemberId, page: RegisterPage): TransferEffect[] {
    const s = this.sources.get(from);
    assert(s !== undefined, `page from non-source ${from}`);
    s.fetching = false;
    if (this.finished) return [];
    if (!page.initialized) return [];
    // Addresses up to what is written (or being written) were merged from enough sources already.
    const front = this.writing ? this.writing.upTo : this.cursor;
    if (!(this.writing && front === null)) s.buffer.push(...page.items.filter((i) => front === null || i.addr > front));
    s.reach = page.next === null ? END : page.next;
    return this.advance();
  }

  /** Target `to` stored the write of the range up to `upTo` durably. */
  onStored(to: MemberId, upTo: Addr | null): TransferEffect[] {
    assert(this.targets.includes(to), `ack from non-target ${to}`);
    const w = this.writing;
    if (!w || w.upTo !== upTo || w.acks.has(to)) return [];
    w.acks.add(to);
    if (w.acks.size < this.targetsNeeded) return [];
    this.writing = undefined;
    this.copied += w.count;
    if (upTo === null) {
      this.finished = true;
      return [{ type: 'done', registers: this.copied }];
    }
    this.cursor = upTo;
    return [{ type: 'progress', cursor: upTo, registers: this.copied }, ...this.advance()];
  }

  /** Writes the next complete range if nothing is being written, and fetches what it needs. */
  private advance(): TransferEffect[] {
    if (this.writing || this.finished) return [];
    const reaches = [...this.sources.values()].map((s) => s.reach).filter((r): r is Addr | typeof END => r !== null);
    const effects: TransferEffect[] = [];
    if (reaches.length >= this.sourcesNeeded) {
      // The sourcesNeeded-th furthest reach: every address up to it was seen by that many sources.
      const key = (r: Addr | typeof END): number => (r === END ? Number.POSITIVE_INFINITY : r);
      const complete = reaches.sort((a, b) => key(b) - key(a))[this.sourcesNeeded - 1]!;
      const upTo = complete === END ? null : complete;
      if (upTo === null || this.cursor === null || upTo > this.cursor) {
        const merged = new Map<Addr, RegisterItem>();
        for (const s of this.sources.values()) {
          const keep: RegisterItem[] = [];
          for (const item of s.buffer) {
            if (upTo !== null && item.addr > upTo) {
              keep.push(item);
              continue;
            }
            const prev = merged.get(item.addr);
            merged.set(item.addr, prev ? { addr: item.addr, ...maxVersioned(prev, item) } : item);
          }
          s.buffer = keep;
        }
        const items = [...merged.values()].sort((a, b) => a.addr - b.addr);
        this.writing = { upTo, acks: new Set(), count: items.length };
        effects.push({ type: 'write', items, upTo });
      }
    }
    // Ask again every source whose pages the cursor (or the range being written) has used up.
    const front = this.writing ? this.writing.upTo : this.cursor;
    for (const [from, s] of this.sources) {
      if (s.fetching || s.reach === END) continue;
      if (s.reach === null || (front !== null && s.reach <= front)) effects.push(this.fetch(from, s.reach ?? this.cursor));
    }
    return effects;
  }

  private fetch(from: MemberId, after: Addr | null): TransferEffect {
    this.sources.get(from)!.fetching = true;
    return { type: 'fetch', from, after };
  }
}
