import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { MemberId } from '../core/types.js';

const HOST_PORT = /^(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?<port>\d{1,5})$/;

/** A member named as a URL, as --endpoints takes it: a scheme and host:port, nothing else (a trailing slash at most). */
const MEMBER_URL = /^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*):\/\/(?<rest>[^/?#@\s]*)\/?$/;

/**
 * Parses a member address: `host:port`, or a URL `http://host:port` / `https://host:port` (what
 * `--endpoints` takes, so users copy one into the other); returns an error message naming the
 * problem, or the canonical `host:port`. `tls`, when known, is whether members speak https: a URL
 * whose scheme says otherwise names a member of another setup, and is refused.
 */
export function parseMemberAddress(text: string, tls?: boolean): { ok: true; member: MemberId } | { ok: false; message: string } {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  let hostPort = text.trim();
  if (hostPort.includes('://')) {
    const url = MEMBER_URL.exec(hostPort);
    if (!url?.groups) return { ok: false, message: `"${shown}" is not host:port or a URL http(s)://host:port (no path, query or user name)` };
    const scheme = url.groups['scheme']!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return { ok: false, message: `"${shown}": members speak http or https, not ${scheme}` };
    if (tls === true && scheme === 'http') return { ok: false, message: `"${shown}": this cluster's members speak https (TLS is on); write https:// or host:port` };
    if (tls === false && scheme === 'https') return { ok: false, message: `"${shown}": this cluster's members speak plain http (TLS is off); write http:// or host:port` };
    hostPort = url.groups['rest']!;
  }
  const m = HOST_PORT.exec(hostPort);
  if (!m?.groups) return { ok: false, message: `"${shown}" is not host:port${text.split(':').length > 2 ? ' (an IPv6 address goes in brackets: [::1]:3030)' : ''}` };
  const port = Number(m.groups['port']);
  if (port < 1 || port > 65535) return { ok: false, message: `"${shown}" has port ${port}, outside 1-65535` };
  const host = m.groups['host']!;
  if (host.startsWith('[') && !isIPv6(host.slice(1, -1))) return { ok: false, message: `"${shown}": ${host} is not an IPv6 address` };
  return { ok: true, member: `${m.groups['host']!.toLowerCase()}:${port}` };
}

/** The host (without IPv6 brackets) and port of a `host:port` member id. */
export function splitMember(member: MemberId): { host: string; port: number } {
  const i = member.lastIndexOf(':');
  return { host: member.slice(0, Math.max(i, 0)).replace(/^\[(.*)\]$/, '$1'), port: Number(member.slice(i + 1)) };
}

/** The member set in canonical (sorted) order. */
export function canonicalMembers(members: readonly MemberId[]): MemberId[] {
  return [...new Set(members)].sort();
}

/** Short identity of a member set: equal sets give equal ids on every node. */
export function clusterId(members: readonly MemberId[]): string {
  return createHash('sha256').update(canonicalMembers(members).join(',')).digest('hex').slice(0, 16);
}

/** Explains how member set `theirs` differs from `ours`, for error messages. */
export function describeMemberDifference(ours: readonly MemberId[], theirs: readonly MemberId[]): string {
  const missing = ours.filter((m) => !theirs.includes(m));
  const extra = theirs.filter((m) => !ours.includes(m));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`lacks ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`has extra ${extra.join(', ')}`);
  return parts.length > 0 ? parts.join(' and ') : 'same members';
}

/**
 * The base URL of a member: the one place that puts a scheme in front of a `host:port`
 * (members talk https to each other once TLS is on; --peers needs no scheme).
 */
export function memberUrl(member: MemberId, tls: boolean): string {
  return `${tls ? 'https' : 'http'}://${member}`;
}
