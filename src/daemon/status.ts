import type { MemberId } from '../core/types.js';
import type { PeerHealth } from './failure-detector.js';

/** The quorum verdict line of `status`: "quorum ok: 3/3 up", "degraded: 2/3 up", "no quorum: 1/3 up". */
export function verdict(up: number, size: number, quorum: number): string {
  if (up >= size) return `quorum ok: ${up}/${size} up`;
  if (up >= quorum) return `degraded: ${up}/${size} up`;
  return `no quorum: ${up}/${size} up`;
}

/** Members this node can currently reach: itself plus the peers the failure detector sees up. */
export function reachableMembers(self: MemberId, peers: readonly PeerHealth[]): MemberId[] {
  return [self, ...peers.filter((p) => p.state === 'up').map((p) => p.member)];
}
