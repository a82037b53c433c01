import type { Addr } from '../core/types.js';

/**
 * Histories of register operations, as JSON lines (one event per line, in real-time order):
 *
 *   {"type":"invoke","process":0,"f":"write","addr":3,"value":"a"}
 *   {"type":"ok","process":0,"f":"write","addr":3,"value":"a"}
 *   {"type":"invoke","process":1,"f":"read","addr":3}
 *   {"type":"ok","process":1,"f":"read","addr":3,"value":"a"}       (value null: never written)
 *
 * `type` is invoke, ok (it happened, with this result), fail (it certainly did not happen)
 * or info (unknown outcome: it may take effect at any time after its invocation, or never).
 * A process has at most one operation outstanding; its completion event follows its invoke.
 * Optional `time` (ms) and `node` fields are carried for people and ignored by the checker:
 * the line order is the real-time order.
 */
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export type OpKind = 'read' | 'write';

export interface HistoryEvent {
  readonly type: EventType;
  readonly process: number | string;
  readonly f: OpKind;
  readonly addr: Addr;
  /** write: the value written; read ok: the value returned. */
  readonly value?: string | null;
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
  /** write: the value written; read: the value returned (ok reads only). */
  readonly value: string | null;
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
  if (r['f'] !== 'read' && r['f'] !== 'write') return 'f must be read or write';
  if (typeof r['addr'] !== 'number' || !Number.isSafeInteger(r['addr']) || r['addr'] < 0) return 'addr must be a non-negative integer';
  if (r['value'] !== undefined && r['value'] !== null && typeof r['value'] !== 'string') return 'value must be a string or null';
  if (r['f'] === 'write' && r['type'] === 'invoke' && typeof r['value'] !== 'string') return 'a write invoke needs its value';
  return undefined;
}

/**
 * Pairs invoke and completion events into operations. Failed operations are dropped (they
 * did not happen); reads with unknown outcome are dropped (they constrain nothing); writes
 * with unknown outcome, or still pending at the end, get ret = Infinity.
 */
export function toOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number | string, { e: HistoryEvent; index: number }>();
  const ops: Operation[] = [];
  const push = (inv: { e: HistoryEvent; index: number }, ret: number, status: 'ok' | 'info', value: string | null): void => {
    ops.push({ id: ops.length, process: inv.e.process, f: inv.e.f, addr: inv.e.addr, value, call: inv.index, ret, status });
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
    if (inv.e.f === 'write') push(inv, e.type === 'ok' ? index : Infinity, e.type, inv.e.value ?? null);
    else if (e.type === 'ok') push(inv, index, 'ok', e.value ?? null);
  });
  for (const inv of open.values()) if (inv.e.f === 'write') push(inv, Infinity, 'info', inv.e.value ?? null);
  return ops;
}
