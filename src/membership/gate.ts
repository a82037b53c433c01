import type { Membership } from '../core/coordinator.js';
import { compareStates, countingConfigurations, isParticipant, quorumOf, stateRank, type ConfigState, type Member } from './configuration.js';

/**
 * What a replica does with a peer request, given the configuration state it holds and the one
 * the request was sent under (docs/membership.md, "How a stale member or operation learns").
 * Pure: the node stores what it learns before it serves.
 */
export type GateDecision =
  /** Same state: answer; the answer counts. */
  | { readonly kind: 'serve' }
  /** The sender is behind: answer `stale_config` with our state instead; nothing counts. */
  | { readonly kind: 'stale'; readonly state: ConfigState }
  /** The sender is ahead: fetch its state, store it durably, then decide again. */
  | { readonly kind: 'learn' }
  /** We are not in our own (newest) configuration any more: answer `retired` with it. */
  | { readonly kind: 'retired'; readonly state: ConfigState };

export function gateRequest(mine: ConfigState, self: string, theirs: ConfigState): GateDecision {
  const order = compareStates(theirs, mine);
  if (order > 0) return { kind: 'learn' };
  if (!isParticipant(mine, self)) return { kind: 'retired', state: mine };
  if (order < 0) return { kind: 'stale', state: mine };
  return { kind: 'serve' };
}

/**
 * The member sets the coordinator counts in state `s`: a majority of each (both during a
 * transition). `key` names a member as the coordinator's links do.
 */
export function membershipOf(s: ConfigState, key: (m: Member) => string = (m) => m.id): Membership {
  return { groups: countingConfigurations(s).map((c) => ({ members: c.members.map(key), needed: quorumOf(c) })), rank: stateRank(s) };
}
