/**
 * Assertions catch programmer errors (TigerBeetle style): they stay on in production and
 * crash the process, because continuing with a broken invariant could corrupt replicas.
 * Operating errors (a peer down, bad input) are values or typed errors, never assertions.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Throws AssertionError when `condition` is false. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`);
}
