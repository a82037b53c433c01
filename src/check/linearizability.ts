import { counterValue } from '../core/rmw.js';
import type { Addr } from '../core/types.js';
import { toOperations, type HistoryEvent, type Operation } from './history.js';

/**
 * A linearizability checker for a map of independent registers (Wing & Gong search with
 * Lowe's just-in-time linearization and memoisation of (linearized set, state), as in
 * Porcupine). Registers are independent (P-compositionality), so each address is checked
 * on its own, which keeps the search small. The model is a compare-and-set register with add
 * (Knossos's cas-register, and add): see `step`.
 */

export type Verdict =
  | { readonly result: 'valid'; readonly addresses: number; readonly operations: number }
  | {
    readonly result: 'invalid';
    readonly addr: Addr;
    /** The smallest window of operations found that has no linearization. */
    readonly window: readonly Operation[];
    readonly explanation: string;
  }
  | { readonly result: 'unknown'; readonly reason: string };

export interface CheckOptions {
  /** Give up with `unknown` after this long (wall clock). */
  readonly budgetMs?: number;
}

/** Checks a history of events (see history.ts). */
export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): Verdict {
  return checkOperations(toOperations(events), options);
}

export function checkOperations(ops: readonly Operation[], options: CheckOptions = {}): Verdict {
  const deadline = Date.now() + (options.budgetMs ?? 60_000);
  const byAddr = new Map<Addr, Operation[]>();
  for (const op of ops) {
    let list = byAddr.get(op.addr);
    if (!list) byAddr.set(op.addr, (list = []));
    list.push(op);
  }
  let unknown: string | undefined;
  for (const [addr, list] of [...byAddr].sort((a, b) => a[0] - b[0])) {
    const never = readOfUnwrittenValue(list);
    if (never) {
      return { result: 'invalid', addr, window: [never], explanation: `read returned ${JSON.stringify(never.value)}, a value never written to address ${addr}` };
    }
    const relevant = withoutUnobservedUnknownWrites(list);
    const r = searchRegister(relevant, INITIAL_KNOWN, deadline);
    if (r === 'unknown') {
      unknown ??= `time budget ran out while checking address ${addr} (${list.length} operations)`;
      continue;
    }
    if (r === 'illegal') return { result: 'invalid', addr, ...smallestWindow(relevant, deadline) };
  }
  if (unknown) return { result: 'unknown', reason: unknown };
  return { result: 'valid', addresses: byAddr.size, operations: ops.length };
}

/** Sentinel for "the register's initial value is unconstrained" (window search). */
const ANY = Symbol('any');
type State = string | null | typeof ANY;
const INITIAL_KNOWN: State = null;

/**
 * Drops writes of unknown outcome whose value no read returned. Such a write can always be
 * linearized last (nothing bounds it), where it constrains no read; and a linearization that
 * has it elsewhere stays one without it, since no read sat between it and the next write (that
 * read would have returned its value). So the verdict is the same, but the search no longer
 * branches over where each of them took effect: a nemesis run with a hundred timed-out writes
 * spent a minute's budget on one address without this.
 */
export function withoutUnobservedUnknownWrites(ops: readonly Operation[]): Operation[] {
  // An add builds on whatever value is there: with adds, every value may be observed.
  if (ops.some((o) => o.f === 'add')) return [...ops];
  const read = new Set(ops.flatMap(observedValues));
  return ops.filter((o) => !(o.f === 'write' && o.ret === Infinity && !read.has(o.value)));
}

/** The values an operation saw the register hold: a read's, a cas's expected one (when it swapped) or the current one it was refused on. */
function observedValues(o: Operation): (string | null)[] {
  if (o.refused) return [o.refused.current];
  if (o.f === 'read') return [o.value];
  if (o.f === 'cas') return [o.expect ?? null];
  return [];
}

function readOfUnwrittenValue(ops: readonly Operation[]): Operation | undefined {
  if (ops.some((o) => o.f === 'add')) return undefined; // an add makes values no one wrote as such
  const written = new Set(ops.filter((o) => o.f === 'write' || o.f === 'cas').map((o) => o.value));
  return ops.find((o) => o.status === 'ok' && (o.f === 'read' || o.refused) && observedValues(o).some((v) => v !== null && !written.has(v)));
}

/**
 * The register's state after `o`, or undefined when `o` cannot take effect in `state` with the
 * result it had. An operation of unknown outcome (`info`) may also have found its change
 * refused, which leaves the state as it is; taking effect never is the same as taking effect
 * last, where nothing observes it (the search places it there when nothing else fits).
 */
function step(o: Operation, state: State): State | undefined {
  const any = state === ANY;
  if (o.refused) {
    const current = o.refused.current;
    if (!any && state !== current) return undefined;
    if (o.f === 'cas') return current !== o.expect ? current : undefined;
    const n = counterValue(current);
    return n === null || !Number.isSafeInteger(n + o.delta!) ? current : undefined;
  }
  switch (o.f) {
    case 'read': return any || state === o.value ? o.value : undefined;
    case 'write': return o.value;
    case 'cas':
      if (any || state === o.expect) return o.value;
      return o.status === 'info' ? state : undefined;
    case 'add': {
      if (o.status === 'ok' && any) return o.value;
      const n = any ? null : counterValue(state as string | null);
      const sum = n === null ? Number.NaN : n + o.delta!;
      if (o.status === 'info') return Number.isSafeInteger(sum) ? String(sum) : state;
      return Number.isSafeInteger(sum) && String(sum) === o.value ? o.value : undefined;
    }
  }
}

/**
 * Shrinks a non-linearizable history of one register to a small window: first the shortest
 * non-linearizable prefix (ops invoked before a cut, later completions made unknown), then
 * the latest start such that the ops invoked from there on still cannot be linearized
 * whatever the register held at that point.
 */
function smallestWindow(ops: readonly Operation[], deadline: number): { window: Operation[]; explanation: string } {
  const cuts = [...new Set(ops.flatMap((o) => (Number.isFinite(o.ret) ? [o.ret + 1] : [])))].sort((a, b) => a - b);
  const prefix = (cut: number): Operation[] =>
    ops.filter((o) => o.call < cut && (o.ret < cut || (o.f !== 'read' && !o.refused))).map((o) => (o.ret < cut ? o : { ...o, ret: Infinity, status: 'info' as const }));
  // Binary search the first cut whose prefix is illegal (prefix-closed property).
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (searchRegister(prefix(cuts[mid]!), INITIAL_KNOWN, deadline) === 'illegal') hi = mid;
    else lo = mid + 1;
  }
  const shortest = prefix(cuts[lo] ?? Infinity);
  const culprit = shortest.reduce((a, b) => (b.ret !== Infinity && (a.ret === Infinity || b.ret > a.ret) ? b : a));
  // Latest start that stays illegal with an unconstrained initial value.
  const starts = [...new Set(shortest.map((o) => o.call))].sort((a, b) => a - b);
  let window = shortest;
  let best = -1;
  let l = 0;
  let h = starts.length - 1;
  while (l <= h) {
    const mid = (l + h) >> 1;
    const candidate = shortest.filter((o) => o.call >= starts[mid]!);
    if (searchRegister(candidate, ANY, deadline) === 'illegal') {
      best = mid;
      l = mid + 1;
    } else {
      h = mid - 1;
    }
  }
  if (best >= 0) window = shortest.filter((o) => o.call >= starts[best]!);
  const explanation = best >= 0
    ? `no order of these ${window.length} operations is consistent with a register (the last to complete is op ${culprit.id}, ${culprit.f} by process ${culprit.process})`
    : `these ${window.length} operations have no linearization from the initial empty register`;
  return { window, explanation };
}

/** A node of the doubly linked entry list (Lowe / Porcupine). */
interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * Depth-first search for a linearization of one register's operations. Returns 'ok',
 * 'illegal' or 'unknown' (deadline passed).
 */
function searchRegister(ops: readonly Operation[], initial: State, deadline: number): 'ok' | 'illegal' | 'unknown' {
  const n = ops.length;
  if (n === 0) return 'ok';
  // Entries ordered by time; unknown-outcome returns go last. At equal times, calls first.
  const events: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((o, i) => {
    events.push({ time: o.call, isCall: true, op: i });
    events.push({ time: o.ret, isCall: false, op: i });
  });
  events.sort((a, b) => (a.time !== b.time ? a.time - b.time : a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  const calls: Entry[] = new Array<Entry>(n);
  let tail = head;
  for (const e of events) {
    const entry: Entry = { op: e.op, isCall: e.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = entry;
    tail = entry;
    if (e.isCall) calls[e.op] = entry;
    else calls[e.op]!.match = entry;
  }

  const lift = (call: Entry): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Entry): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  // Memo of visited (linearized set, state): Zobrist hash, then exact comparison.
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(words);
  const zobrist = new Uint32Array(n * 2);
  let seed = 0x9e3779b9;
  for (let i = 0; i < zobrist.length; i++) {
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    zobrist[i] = seed;
  }
  let h1 = 0;
  let h2 = 0;
  const stateIds = new Map<State, number>();
  const stateId = (s: State): number => {
    let id = stateIds.get(s);
    if (id === undefined) stateIds.set(s, (id = stateIds.size));
    return id;
  };
  const seen = new Map<string, Uint32Array[]>();
  const visit = (state: State): boolean => {
    const key = `${h1}:${h2}:${stateId(state)}`;
    const list = seen.get(key);
    if (list?.some((b) => b.every((w, i) => w === bits[i]))) return false;
    if (list) list.push(bits.slice());
    else seen.set(key, [bits.slice()]);
    return true;
  };
  const toggle = (op: number): void => {
    bits[op >>> 5]! ^= 1 << (op & 31);
    h1 ^= zobrist[op * 2]!;
    h2 ^= zobrist[op * 2 + 1]!;
  };

  const stack: { call: Entry; state: State }[] = [];
  let state = initial;
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if ((++steps & 0x3ff) === 0 && Date.now() > deadline) return 'unknown';
    if (entry === undefined) return 'illegal'; // cannot happen: a return always follows its call
    if (entry.isCall) {
      const next = step(ops[entry.op]!, state);
      if (next !== undefined) {
        toggle(entry.op);
        if (visit(next)) {
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        toggle(entry.op);
      }
      entry = entry.next;
    } else {
      // A return reached before its op was linearized: backtrack.
      const top = stack.pop();
      if (!top) return 'illegal';
      state = top.state;
      toggle(top.call.op);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return 'ok';
}
