import { compareTags, formatTag } from '../core/tag.js';
import type { Addr, Tag } from '../core/types.js';

/**
 * The dashboard's data, as plain values built by pure functions from what the nodes
 * answered, so the view can be tested without a cluster (test/dashboard).
 */

export type MemberState = 'self' | 'up' | 'starting' | 'suspect' | 'down' | 'mismatch' | 'unreachable';

export interface MemberView {
  readonly member: string;
  readonly nodeId: string | null;
  readonly state: MemberState;
  readonly recovering: boolean;
  readonly rttMs: number | null;
  readonly rttHistoryMs: readonly number[];
  readonly lastContactMsAgo: number | null;
  /** What else is wrong with it, from its own status: "disk full", "3 damaged". */
  readonly note?: string | null;
  /** Its catch-up from the others, from its own status: "ok", "1204 behind (42 s)" (docs/catch-up.md). */
  readonly catchup?: string | null;
}

export interface TrafficRow {
  readonly member: string;
  readonly readsPerSec: number | null;
  readonly writesPerSec: number | null;
  /** Compare-and-sets and adds that took effect per second (absent: a member of before issue 31). */
  readonly rmwsPerSec?: number | null;
  /** Reads, writes, cas and add per second over the last minute, one sample per poll. */
  readonly opsHistory?: readonly number[];
  /** The larger of the read and write p99 (ms), per poll, over the last minute. */
  readonly p99History?: readonly number[];
  readonly readP50Ms: number | null;
  readonly readP99Ms: number | null;
  readonly writeP50Ms: number | null;
  readonly writeP99Ms: number | null;
  readonly quorumFailures: number | null;
}

export interface TagRow {
  readonly addr: Addr;
  /** The tag each member's replica holds, in member order; null when that replica did not answer. */
  readonly tags: readonly (Tag | null)[];
  /** True for each replica behind the newest tag of the row. */
  readonly behind: readonly boolean[];
}

export interface DashboardModel {
  readonly endpoint: string | null;
  readonly verdict: string;
  readonly hasQuorum: boolean;
  readonly members: readonly MemberView[];
  readonly traffic: readonly TrafficRow[];
  readonly tagMembers: readonly string[];
  readonly tagRows: readonly TagRow[];
  readonly error: string | null;
  /** The tags panel starts at this address (null: the first); the addresses just before it (for scrolling up). */
  readonly tagFrom?: Addr | null;
  readonly tagsBefore?: readonly Addr[];
}

export const EMPTY_MODEL: DashboardModel = {
  endpoint: null, verdict: 'connecting…', hasQuorum: true, members: [], traffic: [], tagMembers: [], tagRows: [], error: null,
  tagFrom: null, tagsBefore: [],
};

/** One member's page of tags: entries after the cursor, and whether more follow. */
export interface TagPage {
  readonly items: readonly { addr: Addr; tag: Tag; damaged?: boolean }[];
  readonly next: Addr | null;
}

/**
 * Merges the members' tag pages into rows: the first `limit` addresses of the union, each
 * with the tag of every replica. A replica whose page reached past an address without it
 * holds the initial tag there (it is behind); one whose page ended before is unknown.
 */
export function buildTagRows(pages: readonly (TagPage | null)[], limit: number): TagRow[] {
  const addrs = [...new Set(pages.flatMap((p) => p?.items.map((i) => i.addr) ?? []))].sort((a, b) => a - b).slice(0, limit);
  return addrs.map((addr) => {
    const tags = pages.map((p) => {
      if (!p) return null;
      const hit = p.items.find((i) => i.addr === addr);
      if (hit) return hit.tag;
      const last = p.items.at(-1)?.addr;
      const covered = p.next === null || (last !== undefined && last >= addr);
      return covered ? { seq: 0, writer: '' } : null;
    });
    const known = tags.filter((t): t is Tag => t !== null);
    const newest = known.reduce<Tag | null>((m, t) => (m === null || compareTags(t, m) > 0 ? t : m), null);
    return { addr, tags, behind: tags.map((t) => t !== null && newest !== null && compareTags(t, newest) < 0) };
  });
}

/** Per-second rate from two counter readings; null without a previous reading. */
export function rate(current: number, previous: number | undefined, elapsedMs: number): number | null {
  if (previous === undefined || elapsedMs <= 0 || current < previous) return null;
  return Math.round(((current - previous) * 1000) / elapsedMs * 10) / 10;
}

/**
 * A sparkline of the last `width` values, one block character each, scaled between their
 * minimum and maximum (`fromZero`: between zero and the maximum, for rates).
 */
export function sparkline(values: readonly number[], width = 12, fromZero = false): string {
  const blocks = '▁▂▃▄▅▆▇█';
  const tail = values.slice(-width);
  if (tail.length === 0) return '';
  const max = Math.max(...tail);
  const min = fromZero ? Math.min(0, ...tail) : Math.min(...tail);
  return tail.map((v) => blocks[max === min ? 0 : Math.round(((v - min) / (max - min)) * (blocks.length - 1))]).join('');
}

/** Shortest member names that stay distinct: ":3031" when every member shares the host. */
export function shortMembers(members: readonly string[]): string[] {
  const host = (m: string): string => m.slice(0, m.lastIndexOf(':'));
  const same = members.length > 0 && members.every((m) => host(m) === host(members[0]!));
  return same ? members.map((m) => m.slice(m.lastIndexOf(':'))) : [...members];
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? `${ms.toFixed(2)}ms` : ms < 1000 ? `${ms.toFixed(0)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function formatAgo(ms: number | null): string {
  if (ms === null) return 'never';
  return ms < 1000 ? `${ms}ms ago` : `${(ms / 1000).toFixed(1)}s ago`;
}

export function formatTagCell(tag: Tag | null): string {
  return tag === null ? '?' : formatTag(tag);
}

/** A member's catch-up in a few characters, from the lags its status reports on each of its peers. */
export function catchupSummary(behind: readonly { changes: number | null; seconds: number | null; mode: string; lastAnswerAgeMs?: number | null }[]): string {
  if (behind.length === 0) return '-';
  if (behind.some((b) => (b.lastAnswerAgeMs ?? 0) > 5_000)) return 'no answer';
  if (behind.some((b) => b.mode === 'comparing')) return 'comparing';
  if (behind.some((b) => b.changes === null)) return 'starting';
  const changes = Math.max(...behind.map((b) => b.changes ?? 0));
  if (changes === 0) return 'ok';
  const seconds = Math.max(...behind.map((b) => b.seconds ?? 0));
  return `${changes} behind${seconds >= 1 ? ` (${Math.round(seconds)} s)` : ''}`;
}
