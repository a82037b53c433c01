import type { Addr } from '../core/types.js';

/**
 * Histories of register operations, as JSON lines (one event per line, in real-time order):
 *
 *   {"type":"invoke","process":0,"f":"write","addr":3,"value":"a"}
 *   {"type":"ok","process":0,"f":"write","addr":3,"value":"a"}
 *   {"type":"invoke","process":1,"f":"read","addr":3}
 *   {"type":"ok","process":1,"f":"read","addr":3,"value":"a"}       (value null: never written)
 *   {"type":"invoke","process":2,"f":"cas","addr":3,"expect":"a","value":"b"}   (expect null: never written)
 *   {"type":"ok","process":2,"f":"cas","addr":3}                    (it swapped)
 *   {"type":"ok","process":2,"f":"cas","addr":3,"refused":true,"current":"c"}   (409: it read "c" and changed nothing)
 *   {"type":"invoke","process":4,"f":"add","addr":5,"delta":2}
 *   {"type":"ok","process":4,"f":"add","addr":5,"value":"7"}        (the new value; refused + current as for cas)
 *
 * `type` is invoke, ok (it happened, with this result), fail (it certainly did not happen)
 * or info (unknown outcome: it may take effect at any time after its invocation, or never).
 * A process has at most one operation outstanding; its completion event follows its invoke.
 * Optional `time` (ms) and `node` fields are carried for people and ignored by the checker:
 * the line order is the real-time order.
 */
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpKind = 'read' | 'write' | 'cas' | 'add';

export interface HistoryEvent {
  readonly type: EventType;
  readonly process: number | string;
  readonly f: OpKind;
  readonly addr: Addr;
  /** write and cas: the value written; read ok: the value returned; add ok: the new value. */
  readonly value?: string | null;
  /** cas invoke: the value expected (null: never written). */
  readonly expect?: string | null;
  /** add invoke: what is added. */
  readonly delta?: number;
  /** cas or add ok: the change refused (409) after reading `current`; nothing changed. */
  readonly refused?: boolean;
  readonly current?: string | null;
  readonly time?: number;
  /** Informational: the node the operation went through. */
  readonly node?: string | number;
}

/** One operation, paired from its invoke and completion events. */
export interface Operation {
  readonly id: number;
  readonly process: number | string;
  readonly f: OpKind;
  readonly addr: Addr;
  /** write and cas: the value written; read: the value returned (ok reads only); add: the new value (ok, not refused). */
  readonly value: string | null;
  /** cas: the value expected; add: the delta. */
  readonly expect?: string | null;
  readonly delta?: number;
  /** A cas or add that completed refused, having read `current` (a read as far as the register goes). */
  readonly refused?: { readonly current: string | null };
  /** Index of the invoke event. */
  readonly call: number;
  /** Index of the completion event; Infinity when the outcome is unknown (info or missing). */
  readonly ret: number;
  readonly status: 'ok' | 'info';
}

/** Parses JSON lines; throws an Error naming the line for anything malformed. */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      throw new Error(`history line ${i + 1}: not JSON`);
    }
    const problem = validateEvent(e);
    if (problem) throw new Error(`history line ${i + 1}: ${problem}`);
    events.push(e as HistoryEvent);
  });
  return events;
}

function validateEvent(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'not an object';
  const r = e as Record<string, unknown>;
  if (!['invoke', 'ok', 'fail', 'info'].includes(r['type'] as string)) return 'type must be invoke, ok, fail or info';
  if (typeof r['process'] !== 'number' && typeof r['process'] !== 'string') return 'process must be a number or string';
  if (!['read', 'write', 'cas', 'add'].includes(r['f'] as string)) return 'f must be read, write, cas or add';
  if (typeof r['addr'] !== 'number' || !Number.isSafeInteger(r['addr']) || r['addr'] < 0) return 'addr must be a non-negative integer';
  if (r['value'] !== undefined && r['value'] !== null && typeof r['value'] !== 'string') return 'value must be a string or null';
  if ((r['f'] === 'write' || r['f'] === 'cas') && r['type'] === 'invoke' && typeof r['value'] !== 'string') return `a ${r['f']} invoke needs its value`;
  if (r['f'] === 'cas' && r['type'] === 'invoke' && r['expect'] !== null && typeof r['expect'] !== 'string') return 'a cas invoke needs expect (a string or null)';
  if (r['f'] === 'add' && r['type'] === 'invoke' && !Number.isSafeInteger(r['delta'])) return 'an add invoke needs an integer delta';
  if (r['refused'] !== undefined && (r['refused'] !== true || r['type'] !== 'ok' || (r['current'] !== null && typeof r['current'] !== 'string'))) {
    return 'refused: true goes with an ok cas or add and its current value (a string or null)';
  }
  if (r['f'] === 'add' && r['type'] === 'ok' && r['refused'] !== true && typeof r['value'] !== 'string') return 'an ok add needs its new value';
  return undefined;
}

/**
 * Pairs invoke and completion events into operations. Failed operations are dropped (they
 * did not happen); reads with unknown outcome are dropped (they constrain nothing); writes,
 * cas and add with unknown outcome, or still pending at the end, get ret = Infinity.
 */
export function toOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number | string, { e: HistoryEvent; index: number }>();
  const ops: Operation[] = [];
  const push = (inv: { e: HistoryEvent; index: number }, ret: number, status: 'ok' | 'info', value: string | null, done?: HistoryEvent): void => {
    const { f } = inv.e;
    ops.push({
      id: ops.length, process: inv.e.process, f, addr: inv.e.addr, value, call: inv.index, ret, status,
      ...(f === 'cas' ? { expect: inv.e.expect ?? null } : {}), ...(f === 'add' ? { delta: inv.e.delta! } : {}),
      ...(done?.refused === true ? { refused: { current: done.current ?? null } } : {}),
    });
  };
  events.forEach((e, index) => {
    if (e.type === 'invoke') {
      if (open.has(e.process)) throw new Error(`event ${index + 1}: process ${e.process} invoked while its previous operation is open`);
      open.set(e.process, { e, index });
      return;
    }
    const inv = open.get(e.process);
    if (!inv) throw new Error(`event ${index + 1}: ${e.type} for process ${e.process} without an open invoke`);
    if (inv.e.f !== e.f || inv.e.addr !== e.addr) throw new Error(`event ${index + 1}: completion does not match the invoke of process ${e.process}`);
    open.delete(e.process);
    if (e.type === 'fail') return;
    if (inv.e.f === 'read') {
      if (e.type === 'ok') push(inv, index, 'ok', e.value ?? null);
      return;
    }
    const value = inv.e.f === 'add' ? (e.type === 'ok' ? e.value ?? null : null) : inv.e.value ?? null;
    if (e.type === 'ok') push(inv, index, 'ok', value, e);
    else push(inv, Infinity, 'info', value);
  });
  for (const inv of open.values()) if (inv.e.f !== 'read') push(inv, Infinity, 'info', inv.e.f === 'add' ? null : inv.e.value ?? null);
  return ops;
}
