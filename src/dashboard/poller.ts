import type { ShmemClient } from '../client/shmem-client.js';
import { memberUrl } from '../config/members.js';
import type { Addr } from '../core/types.js';
import { buildTagRows, rate, type DashboardModel, type MemberView, type TagPage, type TrafficRow } from './view-model.js';

interface StatusDoc {
  node: { id: string; member: string; recovering: boolean };
  cluster: { members: string[]; verdict: string; hasQuorum: boolean };
  peers: { member: string; state: string; nodeId: string | null; rttMs: number | null; lastContactMsAgo: number | null; recovering: boolean }[];
  ops: {
    reads: number; writes: number; quorumFailures: number;
    readLatencyMs: { p50: number | null; p99: number | null }; writeLatencyMs: { p50: number | null; p99: number | null };
  };
}

const RTT_HISTORY = 30;

/**
 * Polls the cluster for the dashboard: /status from the first endpoint that answers (the
 * members and their health as that node sees them), then /status and a page of /tags from
 * every member. A member that does not answer is shown as unreachable; nothing throws.
 */
export class Poller {
  private readonly rttHistory = new Map<string, number[]>();
  private previous = new Map<string, { reads: number; writes: number; at: number }>();

  /** `client` carries the endpoints, TLS and token of the command line (the same as `status`). */
  constructor(private readonly client: ShmemClient, private readonly tagRows: number) {}

  async poll(after: Addr | null): Promise<DashboardModel> {
    let contacted: { endpoint: string; status: StatusDoc };
    try {
      const { body, endpoint } = await this.client.getJson('/status');
      contacted = { endpoint, status: body as StatusDoc };
    } catch (err) {
      return {
        endpoint: null, verdict: 'no endpoint answers', hasQuorum: false, members: [], traffic: [], tagMembers: [], tagRows: [],
        error: (err as Error).message.replace(/\n\s*/g, '; '),
      };
    }
    const { status } = contacted;
    const members = status.cluster.members;
    const query = after === null ? '' : `&after=${after}`;
    const tls = contacted.endpoint.startsWith('https:');
    const answers = await Promise.all(members.map(async (m) => {
      const base = memberUrl(m, tls);
      const [st, tags] = await Promise.all([
        this.client.getJsonAt(base, '/status').then((b) => b as StatusDoc, () => null),
        this.client.getJsonAt(base, `/tags?limit=${this.tagRows}${query}`).then((b) => b as TagPage, () => null),
      ]);
      return { member: m, status: st, tags };
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
      };
    });
    const traffic: TrafficRow[] = answers.map(({ member, status: st }) => {
      if (!st) return { member, readsPerSec: null, writesPerSec: null, readP50Ms: null, readP99Ms: null, writeP50Ms: null, writeP99Ms: null, quorumFailures: null };
      const prev = this.previous.get(member);
      const elapsed = prev ? now - prev.at : 0;
      this.previous.set(member, { reads: st.ops.reads, writes: st.ops.writes, at: now });
      return {
        member,
        readsPerSec: rate(st.ops.reads, prev?.reads, elapsed),
        writesPerSec: rate(st.ops.writes, prev?.writes, elapsed),
        readP50Ms: st.ops.readLatencyMs.p50, readP99Ms: st.ops.readLatencyMs.p99,
        writeP50Ms: st.ops.writeLatencyMs.p50, writeP99Ms: st.ops.writeLatencyMs.p99,
        quorumFailures: st.ops.quorumFailures,
      };
    });
    return {
      endpoint: contacted.endpoint,
      verdict: status.cluster.verdict,
      hasQuorum: status.cluster.hasQuorum,
      members: memberViews,
      traffic,
      tagMembers: members,
      tagRows: buildTagRows(answers.map((a) => a.tags), this.tagRows),
      error: null,
    };
  }
}

