import type { Value } from './types.js';

/**
 * The size of a value as every bound counts it: its UTF-8 bytes; -1 for null (the value of
 * an address never written).
 */
export function valueSize(value: Value): number {
  return value === null ? -1 : Buffer.byteLength(value, 'utf8');
}
