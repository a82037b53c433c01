import { crc32 } from 'node:zlib';
import type { AcceptorRow } from '../core/rmw.js';
import { tagProblem } from '../core/tag.js';
import type { Addr, Unavailable, Value } from '../core/types.js';
export { valueSize } from '../core/value.js';

/**
 * The checksums every stored register carries (docs/storage-integrity.md): CRC-32 of the
 * value's UTF-8 bytes, and CRC-32 of the fields that make its tag and name its value. CRC-32
 * catches the damage that matters here (bytes overwritten or flipped on disk); it is not a
 * defence against someone who rewrites the file on purpose.
 */

export function valueChecksum(value: Value): number {
  return value === null ? 0 : crc32(value);
}

/** `rmwc` joins the checksummed text only when it is not 0, so rows written before carstamps keep theirs. */
export function rowChecksum(addr: Addr, seq: number, writer: string, valueBytes: number, valueCrc: number, rmwc = 0): number {
  return crc32(rmwc === 0 ? `${addr}:${seq}:${writer}:${valueBytes}:${valueCrc}` : `${addr}:${seq}:${writer}:${valueBytes}:${valueCrc}:${rmwc}`);
}

/** The answer for an address whose stored register failed its checksum. */
export const UNAVAILABLE_DAMAGED: Unavailable = Object.freeze({ unavailable: 'damaged' });

/** What a register whose value (not its tag) failed its checksum answers beside its tag. */
export const VALUE_LOST = 'damaged';

/** CRC-32 of an acceptor row as stored (its JSON text) with its address. */
export function acceptorChecksum(addr: Addr, state: string): number {
  return crc32(`${addr}:${state}`);
}

const isBallot = (b: unknown): boolean => typeof b === 'object' && b !== null
  && Number.isSafeInteger((b as { round?: unknown }).round) && typeof (b as { node?: unknown }).node === 'string';

/** A stored acceptor row's JSON, or undefined when it is not one (then it counts as damaged). */
export function parseAcceptorRow(state: string): AcceptorRow | undefined {
  let v: unknown;
  try {
    v = JSON.parse(state);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { promised, accepted, commits } = v as { promised?: unknown; accepted?: unknown; commits?: unknown };
  if (promised !== null && !isBallot(promised)) return undefined;
  if (accepted !== null) {
    const a = accepted as { ballot?: unknown; tag?: unknown; value?: unknown; origin?: unknown; baseOrigin?: unknown } | undefined;
    if (typeof a !== 'object' || !isBallot(a.ballot) || !isBallot(a.origin) || !(a.baseOrigin === null || isBallot(a.baseOrigin))) return undefined;
    if (typeof a.value !== 'string' || !isStoredTag(a.tag)) return undefined;
  }
  if (!Array.isArray(commits)) return undefined;
  for (const c of commits as unknown[]) {
    const x = c as { tag?: unknown; origin?: unknown } | null;
    if (typeof x !== 'object' || x === null || !isBallot(x.origin) || !isStoredTag(x.tag)) return undefined;
  }
  return v as AcceptorRow;
}

function isStoredTag(t: unknown): boolean {
  if (typeof t !== 'object' || t === null) return false;
  const { seq, writer } = t as { seq?: unknown; writer?: unknown };
  return typeof seq === 'number' && typeof writer === 'string' && tagProblem(t as never, Number.MAX_SAFE_INTEGER - 1) === null;
}
