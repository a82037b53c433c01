import { compareTags } from './tag.js';
import type { Versioned } from './types.js';

/**
 * The replica rule of ABD: store an incoming pair only if its tag is greater than the
 * stored one. Stale and duplicate updates are not stored, but they are still acknowledged
 * by the caller: a late or retried update must never keep a coordinator from its quorum.
 */
export function shouldStore(stored: Versioned, incoming: Versioned): boolean {
  return compareTags(incoming.tag, stored.tag) > 0;
}
