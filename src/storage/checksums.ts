import { crc32 } from 'node:zlib';
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
