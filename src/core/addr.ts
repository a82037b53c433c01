import type { Addr } from './types.js';

/**
 * Parses an address written as text (URL path segment, CLI argument): plain decimal digits
 * of a non-negative safe integer. Returns the address, or a message naming the problem.
 */
export function parseAddrText(text: string): { ok: true; addr: Addr } | { ok: false; message: string } {
  if (!/^\d+$/.test(text)) {
    return { ok: false, message: `address "${truncate(text)}" is not a non-negative integer` };
  }
  const addr = Number(text);
  if (!Number.isSafeInteger(addr)) {
    return { ok: false, message: `address ${truncate(text)} is larger than ${Number.MAX_SAFE_INTEGER}` };
  }
  return { ok: true, addr };
}

/** True for a JSON value that is a valid address. */
export function isAddr(value: unknown): value is Addr {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
