import type { Tag, Versioned } from './types.js';

/** The tag of every address before its first write. */
export const ZERO_TAG: Tag = Object.freeze({ seq: 0, writer: '' });

/** The state of every address before its first write. */
export const INITIAL: Versioned = Object.freeze({ tag: ZERO_TAG, value: null });

/**
 * Total order on tags: by seq, then by writer (UTF-16 code unit order, the same on every
 * node because every node runs this function). Returns <0, 0 or >0.
 */
export function compareTags(a: Tag, b: Tag): number {
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  if (a.writer === b.writer) return 0;
  return a.writer < b.writer ? -1 : 1;
}

export function tagsEqual(a: Tag, b: Tag): boolean {
  return a.seq === b.seq && a.writer === b.writer;
}

/** The greater of two versioned pairs (the first on ties). */
export function maxVersioned(a: Versioned, b: Versioned): Versioned {
  return compareTags(b.tag, a.tag) > 0 ? b : a;
}

/** The tag a write issues after observing `observed` as the largest tag of a quorum. */
export function nextTag(observed: Tag, writer: string): Tag {
  return { seq: observed.seq + 1, writer };
}

/** Human form used in logs and the CLI: `seq@writer`. */
export function formatTag(tag: Tag): string {
  return `${tag.seq}@${tag.writer === '' ? '-' : tag.writer}`;
}

/**
 * Shape of a writer id: the node id (8 hex digits, made once per data dir) and the
 * incarnation, `<nodeId>.<incarnation>` (daemon/identity.ts).
 */
export const WRITER_ID_PATTERN = /^[0-9a-f]{8}\.[1-9][0-9]{0,14}$/;

/**
 * Why `tag` could not have been issued by a shmem write, or null when it could: its seq must
 * be an integer from 0 to limits.tagSeqMax; seq 0 goes only with the empty writer (the
 * initial tag) and every other seq with a writer id of WRITER_ID_PATTERN's shape.
 */
export function tagProblem(tag: Tag, seqMax: number): string | null {
  if (!Number.isSafeInteger(tag.seq) || tag.seq < 0) return `tag seq ${tag.seq} is not a non-negative integer`;
  if (tag.seq > seqMax) return `tag seq ${tag.seq} is above the ceiling ${seqMax}`;
  if (tag.seq === 0) return tag.writer === '' ? null : 'tag seq 0 belongs only to the initial tag, whose writer is empty';
  if (!WRITER_ID_PATTERN.test(tag.writer)) return `writer id "${tag.writer.slice(0, 40)}" is not <nodeId>.<incarnation>`;
  return null;
}
