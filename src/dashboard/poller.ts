import type { ShmemClient } from '../client/shmem-client.js';
import { memberUrl } from '../config/members.js';
import type { Addr } from '../core/types.js';
import type { StatusDoc } from '../daemon/status-doc.js';
import { plural } from '../format.js';
import type { TagView } from './Dashboard.js';
import { buildTagRows, catchupSummary, rate, type DashboardModel, type MemberView, type TagPage, type TrafficRow } from './view-model.js';

const RTT_HISTORY = 30;
/** One minute of samples at the default interval (1 s). */
const TRAFFIC_HISTORY = 60;

/**
 * Polls the cluster for the dashboard: /status from the first endpoint that answers (the
 * members and their health as that node sees them), then /status and the tags on screen from
 * every member. A member that does not answer is shown as unreachable; nothing throws.
 */
export class Poller {
  private readonly rttHistory = new Map<string, number[]>();
  private readonly opsHistory = new Map<string, number[]>();
  private readonly p99History = new Map<string, number[]>();
  private previous = new Map<string, { reads: number; writes: number; rmws: number; at: number }>();

  /** `client` carries the endpoints, TLS and token of the command line (the same as `status`). */
  constructor(private readonly client: ShmemClient, private readonly defaultRows: number) {}

  async poll(view: TagView | Addr | null = { from: null }, tagRows = this.defaultRows): Promise<DashboardModel> {
    const tagView: TagView = view === null || typeof view === 'number' ? { from: view } : view;
    let contacted: { endpoint: string; status: StatusDoc };
    try {
      const { body, endpoint } = await this.client.getJson('/status');
      contacted = { endpoint, status: body as StatusDoc };
    } catch (err) {
      return {
        endpoint: null, verdict: 'no endpoint answers', hasQuorum: false, members: [], traffic: [], tagMembers: [], tagRows: [],
        error: (err as Error).message.replace(/\n\s*/g, '; '), tagFrom: null, tagsBefore: [],
      };
    }
    const { status } = contacted;
    const members = status.cluster.members;
    const tls = contacted.endpoint.startsWith('https:');
    const base = (m: string): string => memberUrl(m, tls);
    const tags = (m: string, query: string): Promise<TagPage | null> => this.client.getJsonAt(base(m), `/tags?${query}`).then((b) => b as TagPage, () => null);
    // The last page: find where it starts, then show it like any other.
    let from = 'from' in tagView ? tagView.from : null;
    if ('end' in tagView) {
      const lasts = await Promise.all(members.map((m) => tags(m, `last&limit=${tagRows}`)));
      const addrs = [...new Set(lasts.flatMap((p) => p?.items.map((i) => i.addr) ?? []))].sort((a, b) => a - b).slice(-tagRows);
      from = addrs[0] ?? null;
    }
    const answers = await Promise.all(members.map(async (m) => {
      const [st, page, before] = await Promise.all([
        this.client.getJsonAt(base(m), '/status').then((b) => b as StatusDoc, () => null),
        tags(m, `limit=${tagRows}${from === null || from === 0 ? '' : `&after=${from - 1}`}`),
        from === null || from === 0 ? Promise.resolve(null) : tags(m, `before=${from}&limit=${tagRows}`),
      ]);
      return { member: m, status: st, page, before };
    }));
    const now = Date.now();
    const memberViews: MemberView[] = members.map((m) => {
      const self = m === status.node.member;
      const peer = status.peers.find((p) => p.member === m);
      const own = answers.find((a) => a.member === m)?.status;
      const rttMs = peer?.rttMs ?? null;
      const history = this.rttHistory.get(m) ?? [];
      if (rttMs !== null && peer?.state === 'up') history.push(rttMs);
      this.rttHistory.set(m, history.slice(-RTT_HISTORY));
      return {
        member: m,
        nodeId: self ? status.node.id : peer?.nodeId ?? null,
        state: self ? 'self' : ((peer?.state ?? 'unreachable') as MemberView['state']),
        recovering: self ? status.node.recovering : (peer?.recovering ?? own?.node.recovering ?? false),
        rttMs,
        rttHistoryMs: [...(this.rttHistory.get(m) ?? [])],
        lastContactMsAgo: self ? 0 : peer?.lastContactMsAgo ?? null,
        note: own ? noteOf(own) : null,
        catchup: own?.catchup ? catchupSummary(own.catchup.behind) : null,
      };
    });
    const traffic: TrafficRow[] = answers.map(({ member, status: st }) => {
      if (!st) return { member, readsPerSec: null, writesPerSec: null, readP50Ms: null, readP99Ms: null, writeP50Ms: null, writeP99Ms: null, quorumFailures: null };
      const prev = this.previous.get(member);
      const elapsed = prev ? now - prev.at : 0;
      this.previous.set(member, { reads: st.ops.reads, writes: st.ops.writes, rmws: st.ops.rmws ?? 0, at: now });
      const readsPerSec = rate(st.ops.reads, prev?.reads, elapsed);
      const writesPerSec = rate(st.ops.writes, prev?.writes, elapsed);
      const rmwsPerSec = rate(st.ops.rmws ?? 0, prev?.rmws, elapsed);
      if (readsPerSec !== null && writesPerSec !== null) push(this.opsHistory, member, readsPerSec + writesPerSec + (rmwsPerSec ?? 0));
      push(this.p99History, member, Math.max(st.ops.readLatencyMs.p99 ?? 0, st.ops.writeLatencyMs.p99 ?? 0));
      return {
        member, readsPerSec, writesPerSec, rmwsPerSec,
        readP50Ms: st.ops.readLatencyMs.p50, readP99Ms: st.ops.readLatencyMs.p99,
        writeP50Ms: st.ops.writeLatencyMs.p50, writeP99Ms: st.ops.writeLatencyMs.p99,
        quorumFailures: st.ops.quorumFailures,
        opsHistory: [...(this.opsHistory.get(member) ?? [])], p99History: [...(this.p99History.get(member) ?? [])],
      };
    });
    const before = [...new Set(answers.flatMap((a) => a.before?.items.map((i) => i.addr) ?? []))].sort((a, b) => a - b).slice(-tagRows);
    return {
      endpoint: contacted.endpoint,
      verdict: status.cluster.verdict,
      hasQuorum: status.cluster.hasQuorum,
      members: memberViews,
      traffic,
      tagMembers: members,
      tagRows: buildTagRows(answers.map((a) => a.page), tagRows),
      error: null,
      tagFrom: from,
      tagsBefore: before,
    };
  }
}

function push(histories: Map<string, number[]>, member: string, value: number): void {
  const h = histories.get(member) ?? [];
  h.push(value);
  histories.set(member, h.slice(-TRAFFIC_HISTORY));
}

/** What a member's own status says is wrong with it besides its state. */
function noteOf(s: StatusDoc): string | null {
  const notes = [
    ...(s.store.health.ok ? [] : [/disk is full/.test(s.store.health.reason) ? 'disk full' : 'store unavailable']),
    ...(s.store.damaged > 0 ? [plural(s.store.damaged, 'damaged register')] : []),
  ];
  return notes.length > 0 ? notes.join(', ') : null;
}
