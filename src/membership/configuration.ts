import { limits } from '../core/limits.js';
import { majority } from '../core/quorum.js';

/**
 * Configurations of the member set (docs/membership.md). Pure data and functions: the node
 * keeps its ConfigState durably and compares states it hears from peers.
 */

/** A member: a stable node id (kept in its data dir) and an address that may change. */
export interface Member {
  readonly id: string;
  /** host:port where its peer API listens. */
  readonly address: string;
}

/** One member set, numbered: epoch 1 is the bootstrap set; every change adds one. */
export interface Configuration {
  readonly epoch: number;
  readonly members: readonly Member[];
}

/** What a member believes: one configuration, or the transition from one to the next. */
export type ConfigState =
  | { readonly kind: 'stable'; readonly current: Configuration }
  | { readonly kind: 'joint'; readonly current: Configuration; readonly next: Configuration };

/** Why `c` is not a usable configuration, or null. */
export function configurationProblem(c: Configuration): string | null {
  if (!Number.isSafeInteger(c.epoch) || c.epoch < 1) return `epoch must be a positive integer, got ${c.epoch}`;
  if (c.members.length < 1) return 'a configuration needs at least one member';
  if (c.members.length > limits.membersMax) return `${c.members.length} members, at most ${limits.membersMax} are supported`;
  const ids = new Set<string>();
  const addresses = new Set<string>();
  for (const m of c.members) {
    if (m.id === '' || m.address === '') return 'every member needs a node id and an address';
    if (ids.has(m.id)) return `node id ${m.id} is listed twice`;
    if (addresses.has(m.address)) return `address ${m.address} is listed twice`;
    ids.add(m.id);
    addresses.add(m.address);
  }
  return null;
}

/** Why `s` is not a usable state (a joint state must move to exactly the next epoch), or null. */
export function stateProblem(s: ConfigState): string | null {
  const current = configurationProblem(s.current);
  if (current !== null || s.kind === 'stable') return current;
  if (s.next.epoch !== s.current.epoch + 1) return `a transition goes from epoch ${s.current.epoch} to ${s.current.epoch + 1}, not ${s.next.epoch}`;
  return configurationProblem(s.next);
}

/**
 * Position of a state in the only order a cluster moves through:
 * stable(1) < joint(1, 2) < stable(2) < joint(2, 3) < ...
 */
export function stateRank(s: ConfigState): number {
  return s.kind === 'stable' ? 2 * s.current.epoch : 2 * s.current.epoch + 1;
}

/** Negative when `a` is older than `b`, 0 when the same position, positive when newer. */
export function compareStates(a: ConfigState, b: ConfigState): number {
  return stateRank(a) - stateRank(b);
}

/** The configurations whose majority every phase of an operation needs in state `s`. */
export function countingConfigurations(s: ConfigState): readonly Configuration[] {
  return s.kind === 'stable' ? [s.current] : [s.current, s.next];
}

/** Every member that takes part in state `s` (both sets during a transition), each once. */
export function participants(s: ConfigState): readonly Member[] {
  const seen = new Map<string, Member>();
  for (const c of countingConfigurations(s)) for (const m of c.members) if (!seen.has(m.id)) seen.set(m.id, m);
  return [...seen.values()];
}

/** Whether node `id` still answers as a replica in state `s` (a retired member does not). */
export function isParticipant(s: ConfigState, id: string): boolean {
  return participants(s).some((m) => m.id === id);
}

/** Quorum size of one configuration: a majority of its members. */
export function quorumOf(c: Configuration): number {
  return majority(c.members.length);
}

/** "adds d (127.0.0.1:4004), removes b", for logs and the CLI; "no change" when equal. */
export function describeChange(from: Configuration, to: Configuration): string {
  const before = new Map(from.members.map((m) => [m.id, m]));
  const after = new Map(to.members.map((m) => [m.id, m]));
  const parts: string[] = [];
  const added = to.members.filter((m) => !before.has(m.id));
  const removed = from.members.filter((m) => !after.has(m.id));
  const moved = to.members.filter((m) => before.has(m.id) && before.get(m.id)!.address !== m.address);
  if (added.length > 0) parts.push(`adds ${added.map((m) => `${m.id} (${m.address})`).join(', ')}`);
  if (removed.length > 0) parts.push(`removes ${removed.map((m) => `${m.id} (${m.address})`).join(', ')}`);
  if (moved.length > 0) parts.push(`moves ${moved.map((m) => `${m.id} to ${m.address}`).join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no change';
}
