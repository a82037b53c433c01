import { NO_ACCEPTOR_ROW, type AcceptorRow } from '../core/rmw.js';
import { compareTags, INITIAL } from '../core/tag.js';
import { wantsValue, type Addr, type RegisterItem, type ReplicaAnswer, type Tag, type ValueWant, type Versioned } from '../core/types.js';
import { valueSize } from '../core/value.js';
import { RegisterDamagedError, StorageUnavailableError } from '../errors.js';
import type { Clock, Timer } from '../platform/clock.js';
import { storeDecision, type CatchUpPosition, type DamageKind, type ChangePage, type RegisterStore, type StoreHealth, type StoreStats, type TagCursor, type TagEntry } from './register-store.js';

/** What a data dir holds after its process is gone: the committed registers, the meta facts and the damage marks. */
export class MemoryDisk {
  /** `generation`: how many disks this member had before (wiped ones): a new disk gets a new node id. */
  constructor(readonly generation = 0) {}

  readonly registers = new Map<Addr, Versioned>();
  /** Each register's change number and time (docs/catch-up.md), the head, the log id and the catch-up positions. */
  readonly changes = new Map<Addr, { change: number; changedMs: number }>();
  head = 0;
  log: string | undefined;
  private logs = 0;
  readonly positions = new Map<string, CatchUpPosition>();

  /** A new change log id: distinct for each disk of a member and each renewal (the simulation stays deterministic). */
  newLog(): string {
    this.logs += 1;
    this.log = `g${this.generation}.${this.logs}`;
    return this.log;
  }
  /** The address of the last register committed (the simulator rots it to hit a write in flight). */
  lastWritten: Addr | undefined;
  readonly meta = new Map<string, string>();
  /** Per-address Paxos acceptor rows (docs/rmw.md). */
  readonly acceptors = new Map<Addr, AcceptorRow>();
  /**
   * Addresses marked damaged, and what they lost (the `damaged` table): the tag (what they held
   * is unknown until a repair from the other members lifts the mark) or only the value (the tag
   * still counts; the next update or a repair heals it).
   */
  readonly damaged = new Map<Addr, DamageKind>();
  /** Of the tag-lost ones, those whose stored bytes are still the rotten ones (no update has rewritten them). */
  readonly rotten = new Set<Addr>();

  /** Damages the register at `addr`, tag fields and all (a flipped bit the checksum will catch); false when nothing is stored there. */
  rot(addr: Addr): boolean {
    if (!this.registers.has(addr)) return false;
    this.damaged.set(addr, 'tag');
    this.rotten.add(addr);
    return true;
  }

  /**
   * Damages only the value at `addr`: its bytes change (a mutation that serves them must be
   * caught), its tag fields stay intact. False when no value is stored there or the tag is lost already.
   */
  rotValue(addr: Addr): boolean {
    const v = this.registers.get(addr);
    if (v === undefined || v.value === null || this.damaged.get(addr) === 'tag') return false;
    this.registers.set(addr, { tag: v.tag, value: `${v.value}\u0000rotten` });
    this.damaged.set(addr, 'value');
    return true;
  }

  /** What is stored at `addr`, damaged or not (for the simulator's checks). */
  stored(addr: Addr): Versioned {
    return this.registers.get(addr) ?? INITIAL;
  }
}

/** Deliberately broken variants, switched on only by the simulator's mutation tests. */
export interface StoreMutations {
  /** putIfNewer resolves at once, before the commit (so a crash loses what was acknowledged). */
  readonly ackBeforePersist?: boolean;
  /** A register whose value failed its checksum answers that value as if it were whole. */
  readonly serveDamagedValue?: boolean;
  /** A register whose value failed its checksum answers nothing, its tag included (the rule before issue 30). */
  readonly damagedValueUnavailable?: boolean;
  /** Acceptor rows are not kept across a restart (an acceptor that forgets its promises). */
  readonly forgetAcceptors?: boolean;
  /** The replica rule compares (seq, writer) only: an rmw's result never replaces the value it was computed from. */
  readonly ignoreRmwc?: boolean;
}

/** How the simulated disk behaves: its commit latency (slow-disk spikes) and when commits fail (a full disk). */
export interface MemoryStoreOptions {
  readonly commitDelayMs?: () => number;
  /** A reason while commits fail (disk full, I/O error), else undefined. */
  readonly commitFailure?: () => string | undefined;
  /** Called after a commit stored its batch, before anyone is told (a crash can be injected here). */
  readonly afterCommit?: () => void;
  readonly mutations?: StoreMutations;
}

/**
 * A RegisterStore in memory with SqliteStore's contract, for the simulator and tests: updates
 * are queued and committed together `commitDelayMs()` later on the store's clock (group commit),
 * and acknowledged only then; reads see only committed state; a register whose tag is lost is
 * answered unavailable, refused in pages, and overwritten by any update (its mark stays until
 * repaired), one whose value only is lost answers its tag and `lost`, and an update heals it;
 * a failing disk rejects the batch with StorageUnavailableError and reports itself unhealthy.
 * `kill()` is the process dying: what was queued is lost, nothing is acknowledged any more,
 * and the MemoryDisk (what was committed) is all a restarted node finds.
 */
export class MemoryStore implements RegisterStore {
  private pending: {
    items: readonly RegisterItem[]; acceptors?: readonly { addr: Addr; row: AcceptorRow }[]; position: CatchUpPosition | undefined;
    resolve: () => void; reject: (err: Error) => void;
  }[] = [];
  private commitTimer: Timer | undefined;
  private commits = 0;
  private lastBatchItems = 0;
  private highestTag: Tag | null = null;
  private closed = false;
  private dead = false;
  private healthState: StoreHealth = { ok: true };

  constructor(readonly disk: MemoryDisk, private readonly clock: Clock, private readonly options: MemoryStoreOptions = {}) {
    for (const v of disk.registers.values()) this.noteTag(v.tag);
    if (disk.log === undefined) disk.newLog();
    if (options.mutations?.forgetAcceptors) disk.acceptors.clear();
  }

  /** The process died: queued updates are lost and never acknowledged; the disk stays as committed. */
  kill(): void {
    this.dead = true;
    this.pending = [];
    this.clock.clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
  }

  /** Updates queued and not committed yet (bounded: the simulator checks it during long partitions). */
  get queued(): number {
    return this.pending.length;
  }

  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[] {
    let used = 0;
    return addrs.map((addr, i): ReplicaAnswer => {
      const damage = this.disk.damaged.get(addr);
      if (damage === 'tag' || (damage === 'value' && this.options.mutations?.damagedValueUnavailable)) return { unavailable: 'damaged' };
      if (damage === 'value' && !this.options.mutations?.serveDamagedValue) return { tag: this.disk.stored(addr).tag, lost: 'damaged' };
      const v = this.disk.stored(addr);
      if (!wantsValue(want.values, i)) return { tag: v.tag, value: null };
      const size = Math.max(0, valueSize(v.value));
      const allowed = want.oversize && used === 0 ? Number.MAX_SAFE_INTEGER : want.budgetBytes - used;
      if (size > allowed) return { tag: v.tag, deferredBytes: size };
      used += size;
      return v;
    });
  }

  page(after: Addr | null, limit: number, valueBytesMax: number): { items: RegisterItem[]; next: Addr | null } {
    const addrs = this.sortedAddrs().filter((a) => after === null || a > after);
    const items: RegisterItem[] = [];
    let bytes = 0;
    let cut = false;
    for (const addr of addrs.slice(0, limit)) {
      if (this.disk.damaged.has(addr)) {
        throw new RegisterDamagedError(`address ${addr} failed its checksum; it is repaired from the other members before this replica gives it out`);
      }
      const v = this.disk.registers.get(addr)!;
      const size = Math.max(0, valueSize(v.value));
      if (items.length > 0 && bytes + size > valueBytesMax) {
        cut = true;
        break;
      }
      items.push({ addr, ...v });
      bytes += size;
    }
    const next = (cut || items.length === limit) && items.length > 0 ? items.at(-1)!.addr : null;
    return { items, next };
  }

  tags(from: TagCursor, limit: number): TagEntry[] {
    const addrs = this.sortedAddrs();
    const chosen = 'after' in from
      ? addrs.filter((a) => from.after === null || a > from.after).slice(0, limit)
      : addrs.filter((a) => from.before === null || a < from.before).slice(-limit);
    return chosen.map((addr): TagEntry => {
      const damage = this.disk.damaged.get(addr);
      const tag = this.disk.registers.get(addr)!.tag;
      return damage === undefined ? { addr, tag } : { addr, tag: damage === 'tag' ? INITIAL.tag : tag, damaged: true };
    });
  }

  acceptors(addrs: readonly Addr[]): (AcceptorRow | undefined)[] {
    return addrs.map((a) => this.disk.acceptors.get(a) ?? NO_ACCEPTOR_ROW);
  }

  acceptorPage(after: Addr | null, limit: number): { addr: Addr; row: AcceptorRow }[] {
    return [...this.disk.acceptors.keys()].filter((a) => after === null || a > after).sort((a, b) => a - b).slice(0, limit)
      .map((addr) => ({ addr, row: this.disk.acceptors.get(addr)! }));
  }

  putAcceptors(rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void> {
    return this.putIfNewer([], undefined, rows);
  }

  putRmw(items: readonly RegisterItem[], rows: readonly { readonly addr: Addr; readonly row: AcceptorRow }[]): Promise<void> {
    return this.putIfNewer(items, undefined, rows);
  }

  putIfNewer(items: readonly RegisterItem[], position?: CatchUpPosition, acceptors?: readonly { addr: Addr; row: AcceptorRow }[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageUnavailableError('the store is closed'));
    return new Promise((resolve, reject) => {
      if (this.dead) return; // a dead process acknowledges nothing
      if (this.options.mutations?.ackBeforePersist) {
        this.pending.push({ items, position, ...(acceptors ? { acceptors } : {}), resolve: () => {}, reject: () => {} });
        resolve();
      } else {
        this.pending.push({ items, position, ...(acceptors ? { acceptors } : {}), resolve, reject });
      }
      if (this.commitTimer === undefined) this.commitTimer = this.clock.setTimeout(() => this.commit(), this.options.commitDelayMs?.() ?? 0);
    });
  }

  changes(since: number, limit: number, valueBytesMax: number | null): ChangePage {
    const d = this.disk;
    const rows = [...d.changes].filter(([, c]) => c.change > since).sort((a, b) => a[1].change - b[1].change);
    const items: RegisterItem[] = [];
    let bytes = 0;
    let last = since;
    let full = false;
    let examined = 0;
    let oldestAgeMs: number | null = null;
    for (const [addr, c] of rows.slice(0, limit)) {
      const v = d.registers.get(addr)!;
      const size = Math.max(0, valueSize(v.value));
      if (valueBytesMax !== null && items.length > 0 && bytes + size > valueBytesMax) {
        full = true;
        break;
      }
      examined += 1;
      oldestAgeMs ??= Math.max(0, this.clock.wallNow() - c.changedMs);
      last = c.change;
      if (d.damaged.has(addr)) {
        if (valueBytesMax !== null) throw new RegisterDamagedError(`address ${addr} failed its checksum; it is repaired from the other members before this replica gives it out`);
        continue;
      }
      items.push({ addr, tag: v.tag, value: valueBytesMax === null ? null : v.value });
      bytes += size;
    }
    if (examined === limit) full = true;
    return { items, next: full ? last : null, head: d.head, log: d.log!, oldestAgeMs };
  }

  changeLog(): { readonly log: string; readonly head: number } {
    return { log: this.disk.log!, head: this.disk.head };
  }

  renewChangeLog(): string {
    return this.disk.newLog();
  }

  positions(): CatchUpPosition[] {
    return [...this.disk.positions.values()];
  }

  damagedAddrs(limit: number): Addr[] {
    return [...this.disk.damaged.keys()].sort((a, b) => a - b).slice(0, limit);
  }

  clearDamaged(addrs: readonly Addr[]): void {
    for (const a of addrs) {
      this.disk.damaged.delete(a);
      this.disk.rotten.delete(a);
      // Left out of the feed while damaged: a new change makes it come again (as SqliteStore).
      if (this.disk.registers.has(a)) {
        this.disk.head += 1;
        this.disk.changes.set(a, { change: this.disk.head, changedMs: this.clock.wallNow() });
      }
    }
  }

  getMeta(key: string): string | undefined {
    return this.disk.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    if (!this.dead) this.disk.meta.set(key, value);
  }

  stats(): StoreStats {
    return {
      addresses: this.disk.registers.size, dbBytes: 0, commits: this.commits, lastBatchItems: this.lastBatchItems,
      path: '(memory)', highestTag: this.highestTag, damaged: this.disk.damaged.size,
    };
  }

  health(): StoreHealth {
    return this.healthState;
  }

  async close(): Promise<void> {
    this.commit();
    this.closed = true;
  }

  private commit(): void {
    this.commitTimer = undefined;
    if (this.dead) return;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const failure = this.options.commitFailure?.();
    if (failure !== undefined) {
      if (this.healthState.ok) this.healthState = { ok: false, reason: failure, sinceMs: this.clock.wallNow() };
      for (const p of batch) p.reject(new StorageUnavailableError(`commit failed: ${failure}`));
      return;
    }
    this.healthState = { ok: true };
    for (const p of batch) {
      for (const item of p.items) this.apply(item);
      for (const a of p.acceptors ?? []) this.disk.acceptors.set(a.addr, a.row);
      if (p.position) this.disk.positions.set(p.position.peer, p.position);
    }
    this.commits += 1;
    this.lastBatchItems = batch.reduce((n, p) => n + p.items.length, 0);
    this.options.afterCommit?.();
    if (this.dead) return; // killed between the commit and its acknowledgements
    for (const p of batch) p.resolve();
  }

  /** The replica rule, with SqliteStore's exceptions for damaged registers (see storeDecision). */
  private apply(item: RegisterItem): void {
    const d = this.disk;
    const stored = d.registers.has(item.addr) && !d.rotten.has(item.addr) ? d.stored(item.addr) : undefined;
    const damage = d.damaged.get(item.addr);
    if (!storeDecision(stored, damage !== undefined, item)) return;
    if (this.options.mutations?.ignoreRmwc && stored !== undefined && stored.tag.seq === item.tag.seq && stored.tag.writer === item.tag.writer) return;
    if (damage === 'value') d.damaged.delete(item.addr); // only the value was lost, and this replaces it
    d.registers.set(item.addr, { tag: item.tag, value: item.value });
    d.head += 1;
    d.changes.set(item.addr, { change: d.head, changedMs: this.clock.wallNow() });
    d.lastWritten = item.addr;
    d.rotten.delete(item.addr);
    this.noteTag(item.tag);
  }

  private noteTag(tag: Tag): void {
    if (this.highestTag === null || compareTags(tag, this.highestTag) > 0) this.highestTag = tag;
  }

  private sortedAddrs(): Addr[] {
    return [...this.disk.registers.keys()].sort((a, b) => a - b);
  }
}
