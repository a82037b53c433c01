import type { Tag, Versioned } from './types.js';

/** The tag of every address before its first write. */
export const ZERO_TAG: Tag = Object.freeze({ seq: 0, writer: '' });

/** The state of every address before its first write. */
export const INITIAL: Versioned = Object.freeze({ tag: ZERO_TAG, value: null });

/**
 * Total order on tags (carstamps, docs/rmw.md): by seq, then by writer (UTF-16 code unit
 * order, the same on every node because every node runs this function), then by rmwc.
 * Returns <0, 0 or >0. rmwc comes last: an rmw's result `(s, w, r+1)` must sort right after
 * the value `(s, w, r)` it was computed from, before any write `(s, w', 0)` with w' > w.
 */
export function compareTags(a: Tag, b: Tag): number {
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1;
  const ra = a.rmwc ?? 0;
  const rb = b.rmwc ?? 0;
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

export function tagsEqual(a: Tag, b: Tag): boolean {
  return a.seq === b.seq && a.writer === b.writer && (a.rmwc ?? 0) === (b.rmwc ?? 0);
}

/** A tag with `rmwc` present only when it is not 0 (the wire and JSON forms rely on that). */
export function carstamp(seq: number, writer: string, rmwc: number): Tag {
  return rmwc === 0 ? { seq, writer } : { seq, writer, rmwc };
}

/** The carstamp an rmw stores its result under: its base's, one rmwc higher (docs/rmw.md). */
export function nextRmwTag(base: Tag): Tag {
  return { seq: base.seq, writer: base.writer, rmwc: (base.rmwc ?? 0) + 1 };
}

/** The greater of two versioned pairs (the first on ties). */
export function maxVersioned(a: Versioned, b: Versioned): Versioned {
  return compareTags(b.tag, a.tag) > 0 ? b : a;
}

/** The tag a write issues after observing `observed` as the largest tag of a quorum. */
export function nextTag(observed: Tag, writer: string): Tag {
  return { seq: observed.seq + 1, writer };
}

/** Human form used in logs and the CLI: `seq@writer`, and `+rmwc` after it when not 0. */
export function formatTag(tag: Tag): string {
  const rmwc = tag.rmwc ?? 0;
  return `${tag.seq}@${tag.writer === '' ? '-' : tag.writer}${rmwc === 0 ? '' : `+${rmwc}`}`;
}

/** The tag `formatTag` printed (`seq@writer[+rmwc]`, `-` for the empty writer), or null when `text` is not one. */
export function parseTag(text: string): Tag | null {
  const m = /^([0-9]{1,16})@(-|[0-9a-f]{8}\.[1-9][0-9]{0,14})(?:\+([1-9][0-9]{0,15}))?$/.exec(text);
  if (!m) return null;
  const tag = carstamp(Number(m[1]), m[2] === '-' ? '' : m[2]!, m[3] === undefined ? 0 : Number(m[3]));
  return Number.isSafeInteger(tag.seq) && Number.isSafeInteger(tag.rmwc ?? 0) ? tag : null;
}

/**
 * Shape of a writer id: the node id (8 hex digits, made once per data dir) and the
 * incarnation, `<nodeId>.<incarnation>` (daemon/identity.ts).
 */
export const WRITER_ID_PATTERN = /^[0-9a-f]{8}\.[1-9][0-9]{0,14}$/;

/**
 * Why `tag` could not have been issued by a shmem write, or null when it could: its seq must
 * be an integer from 0 to limits.tagSeqMax; seq 0 goes only with the empty writer (the
 * initial tag, or an rmw's result computed from it) and every other seq with a writer id of
 * WRITER_ID_PATTERN's shape; rmwc, when present, is an integer from 1 up (absent means 0).
 */
export function tagProblem(tag: Tag, seqMax: number): string | null {
  if (!Number.isSafeInteger(tag.seq) || tag.seq < 0) return `tag seq ${tag.seq} is not a non-negative integer`;
  if (tag.rmwc !== undefined && (typeof tag.rmwc !== 'number' || !Number.isSafeInteger(tag.rmwc) || tag.rmwc < 1 || tag.rmwc > seqMax)) {
    return `tag rmwc ${String(tag.rmwc).slice(0, 20)} is not an integer from 1 to ${seqMax} (absent when 0)`;
  }
  if (tag.seq > seqMax) return `tag seq ${tag.seq} is above the ceiling ${seqMax}`;
  if (tag.seq === 0) return tag.writer === '' ? null : 'tag seq 0 belongs only to the initial tag, whose writer is empty';
  if (!WRITER_ID_PATTERN.test(tag.writer)) return `writer id "${tag.writer.slice(0, 40)}" is not <nodeId>.<incarnation>`;
  return null;
}
