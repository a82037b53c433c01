import type { IncomingHttpHeaders } from 'node:http';
import { describeMemberDifference } from '../config/members.js';
import type { MemberId } from '../core/types.js';
import { BadInputError, MembershipMismatchError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { HEADER_CLUSTER, HEADER_FROM, HEADER_MEMBERS } from '../transport/wire.js';

/** How often one refused sender is logged (its heartbeats arrive many times a second). */
const REFUSAL_LOG_INTERVAL_MS = 30_000;

/**
 * Returns the check every peer request goes through: the sender's cluster identity must be
 * ours, otherwise the request is refused with 409 membership_mismatch naming the difference,
 * and the sender is never counted in a quorum here.
 */
export function createPeerGuard(self: MemberId, members: readonly MemberId[], clusterId: string, logger: Logger): (headers: IncomingHttpHeaders) => void {
  const loggedAt = new Map<string, number>();
  return (headers) => {
    const theirId = headers[HEADER_CLUSTER];
    if (theirId === clusterId) return;
    if (typeof theirId !== 'string') throw new BadInputError('bad_request', 'peer request without cluster identity');
    const from = String(headers[HEADER_FROM] ?? 'unknown sender');
    const theirs = String(headers[HEADER_MEMBERS] ?? '').split(',').filter((m) => m !== '');
    const message = `${self} refuses ${from}: this node's members are ${members.join(', ')}, ` +
      `${from} was started with ${theirs.join(', ')} (it ${describeMemberDifference(members, theirs)})`;
    if (Date.now() - (loggedAt.get(from) ?? 0) > REFUSAL_LOG_INTERVAL_MS) {
      loggedAt.set(from, Date.now());
      logger.error('refused a peer with another member set', { peer: from, theirs, reason: message });
    }
    throw new MembershipMismatchError(message, { hint: 'start every member with the same member set (--port/--peers)' });
  };
}
