import type { MemberId } from '../core/types.js';
import type { PeerHealth } from './failure-detector.js';

/**
 * What a member can do for a quorum right now, as this node sees it. Only `serving` members
 * count: a member that is up but recovering a wiped data dir, refuses our member set, or
 * cannot commit does not answer as a replica.
 */
export type MemberCondition = 'serving' | 'starting' | 'suspect' | 'down' | 'recovering' | 'mismatch' | 'storage unavailable';

export interface MemberServing {
  readonly member: MemberId;
  readonly condition: MemberCondition;
}

/** This node's own part: whether its replica answers. */
export interface SelfState {
  readonly member: MemberId;
  readonly recovering: boolean;
  readonly storeOk: boolean;
}

/** Every member's condition, this node first. */
export function memberConditions(self: SelfState, peers: readonly PeerHealth[]): MemberServing[] {
  const own: MemberCondition = self.recovering ? 'recovering' : !self.storeOk ? 'storage unavailable' : 'serving';
  return [
    { member: self.member, condition: own },
    ...peers.map((p): MemberServing => ({
      member: p.member,
      condition: p.state === 'mismatch' ? 'mismatch' : p.state !== 'up' ? p.state : p.recovering ? 'recovering' : 'serving',
    })),
  ];
}

/** The cluster as reads and writes through this node can use it now. */
export interface ClusterVerdict {
  /** ok: every member serves; degraded: a quorum serves, with less redundancy; no_quorum: reads and writes fail. */
  readonly code: 'ok' | 'degraded' | 'no_quorum';
  readonly serving: number;
  readonly size: number;
  readonly quorum: number;
  readonly hasQuorum: boolean;
  /** The members that do not serve, and why. */
  readonly unavailable: readonly MemberServing[];
  /** The line `status` and `top` show: "quorum ok: 3/3 serving", "no quorum: 1/3 serving (…)". */
  readonly text: string;
}

export function clusterVerdict(conditions: readonly MemberServing[], quorum: number): ClusterVerdict {
  const size = conditions.length;
  const unavailable = conditions.filter((c) => c.condition !== 'serving');
  const serving = size - unavailable.length;
  const code = serving >= size ? 'ok' : serving >= quorum ? 'degraded' : 'no_quorum';
  const why = unavailable.length === 0 ? '' : ` (${unavailable.map((u) => `${u.member} ${u.condition}`).join(', ')})`;
  const label = code === 'ok' ? 'quorum ok' : code === 'degraded' ? 'degraded' : 'no quorum';
  const need = code === 'ok' ? '' : `; a quorum needs ${quorum}`;
  return { code, serving, size, quorum, hasQuorum: serving >= quorum, unavailable, text: `${label}: ${serving}/${size} serving${why}${need}` };
}

/** Why operations cannot reach a quorum now, for the hint of quorum_unavailable. */
export function quorumHint(v: ClusterVerdict): string {
  if (v.hasQuorum) {
    return `${v.serving} of ${v.size} members serve as this node sees them: the quorum of ${v.quorum} was missed by slowness or a fault during the operation; retry`;
  }
  const missing = v.unavailable.map((u) => `${u.member} is ${u.condition === 'serving' ? 'up' : u.condition}`).join(', ');
  return `only ${v.serving} of ${v.size} members can answer as replicas (${missing}); a quorum needs ${v.quorum}`;
}
