import type { IncomingHttpHeaders } from 'node:http';
import { describeMemberDifference } from '../config/members.js';
import type { MemberId } from '../core/types.js';
import { BadInputError, MembershipMismatchError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import { HEADER_CLUSTER, HEADER_FROM, HEADER_MEMBERS, HEADER_NODE, HEADER_PROTOCOL, HEADER_TO, PEER_PROTOCOL, protocolProblem } from '../transport/wire.js';

/** How often one refused sender is logged (its heartbeats arrive many times a second). */
const REFUSAL_LOG_INTERVAL_MS = 30_000;

/**
 * Returns the check every peer request goes through: the sender's cluster identity must be
 * ours, otherwise the request is refused with 409 membership_mismatch naming the difference,
 * and the sender is never counted in a quorum here. A request from this very node (its own
 * node id: it lists itself as a peer under another spelling, `localhost:P` for `127.0.0.1:P`)
 * is refused too: counting one process twice would let it make a "majority" alone. So is a
 * request addressed to another member name (x-shmem-to) than this node's: the sender lists
 * this node twice and would count it twice.
 */
export function createPeerGuard(
  self: MemberId, membersNow: () => readonly MemberId[], clusterId: string, nodeId: string, logger: Logger,
): (headers: IncomingHttpHeaders) => void {
  const refusals = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  return (headers) => {
    if (headers[HEADER_NODE] === nodeId) {
      const alias = String(headers[HEADER_FROM] ?? 'a peer');
      const message = `${self} is listed as its own peer: this request came from node ${nodeId} itself, so member ` +
        `${alias} names this node under another spelling; it is never counted twice in a quorum`;
      if (refusals.shouldLog(`self ${alias}`)) logger.error('this node is listed as its own peer', { peer: alias, nodeId });
      throw new MembershipMismatchError(message, { hint: 'list each OTHER member once in --peers, by the address the others use' });
    }
    // The sender means another member than this one: two of its member names reach this one node.
    const to = headers[HEADER_TO];
    if (typeof to === 'string' && to !== self) {
      const from = String(headers[HEADER_FROM] ?? 'a peer');
      if (refusals.shouldLog(`to ${from} ${to}`)) {
        logger.error('a peer reaches this node under another member name', { peer: from, addressedAs: to, member: self });
      }
      throw new MembershipMismatchError(`${from} addressed this node as member ${to.slice(0, 80)}, but it is member ${self}: ` +
        'two member names reach one node, which must never be counted twice in a quorum', {
        hint: 'every member must be listed once, by one address, in every --peers',
      });
    }
    if (typeof headers[HEADER_CLUSTER] !== 'string') throw new BadInputError('bad_request', 'peer request without cluster identity');
    // Another version of shmem: never counted (before the cluster check: it may be of this very cluster).
    const theirProtocol = headers[HEADER_PROTOCOL];
    if (theirProtocol !== String(PEER_PROTOCOL)) {
      const from = String(headers[HEADER_FROM] ?? 'a peer').slice(0, 200);
      const parsed = theirProtocol === undefined ? undefined : Number(theirProtocol);
      const message = protocolProblem(from, parsed === undefined || Number.isNaN(parsed) ? theirProtocol : parsed)!;
      if (refusals.shouldLog(`protocol ${from}`)) logger.error('refused a peer of another version', { peer: from, protocol: theirProtocol ?? null, ours: PEER_PROTOCOL });
      throw new MembershipMismatchError(message, { hint: 'run the same shmem version on every member' });
    }
    const theirId = headers[HEADER_CLUSTER];
    if (theirId === clusterId) return;
    if (typeof theirId !== 'string') throw new BadInputError('bad_request', 'peer request without cluster identity');
    const from = String(headers[HEADER_FROM] ?? 'unknown sender');
    const theirs = String(headers[HEADER_MEMBERS] ?? '').split(',').filter((m) => m !== '');
    const members = membersNow();
    const message = `${self} refuses ${from}: this node's members are ${members.join(', ')}; ` +
      `${from} was started with ${theirs.join(', ') || 'no member list'} (it ${describeMemberDifference(members, theirs)}).`;
    if (refusals.shouldLog(`members ${from}`)) logger.error('refused a peer with another member set', { peer: from, theirs, reason: message });
    throw new MembershipMismatchError(message, { hint: 'start every member with the same member set (--port/--peers)' });
  };
}
