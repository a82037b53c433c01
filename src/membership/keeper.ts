import { ConfigStateError } from '../errors.js';
import { compareStates, stateRank, type ConfigState, type Configuration, type Member } from './configuration.js';
import { describeState, type ConfigStore } from './config-store.js';

/**
 * The configuration state this member believes, kept durably (config-store.ts) and compared
 * with the state every peer request was sent under (docs/membership.md, "How a stale member
 * or operation learns"). In the running node members are named by their address: that is
 * what the links, channels and quorums count (an address that changes is a `member replace`).
 */
export class MembershipKeeper {
  private current: ConfigState;
  private readonly listeners: ((next: ConfigState, previous: ConfigState) => void)[] = [];

  constructor(
    private readonly store: ConfigStore, initial: ConfigState, readonly self: string,
    /** A broken variant the simulation must catch: a retired member still answers as a replica. */
    private readonly mutations: { readonly retiredAnswers?: boolean } = {},
  ) {
    store.saveState(initial);
    this.current = initial;
  }

  get state(): ConfigState {
    return this.current;
  }

  get rank(): number {
    return stateRank(this.current);
  }

  get epoch(): number {
    return this.current.kind === 'stable' ? this.current.current.epoch : this.current.next.epoch;
  }

  /** Whether this node answers as a replica and coordinates in the state it holds. */
  get isMember(): boolean {
    return participantAddresses(this.current).includes(this.self);
  }

  /** Told (synchronously, after the state is durable) whenever a newer state is adopted. */
  onChange(listener: (next: ConfigState, previous: ConfigState) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Adopts `next` if it is newer: stored durably first (config-store.ts refuses a second
   * configuration for an epoch it holds), then the listeners are told. Returns whether it moved.
   */
  adopt(next: ConfigState): boolean {
    if (compareStates(next, this.current) <= 0) return false;
    this.store.saveState(next);
    const previous = this.current;
    this.current = next;
    for (const l of this.listeners) l(next, previous);
    return true;
  }

  /**
   * The replica's check of a request sent under state `rank` (undefined: a sender that names
   * none, which only hand-made requests do; served as before). Throws ConfigStateError when
   * the answer must not count: we are retired, the sender is behind (it gets our state), or
   * we are behind (the sender pushes its state and retries).
   */
  check(rank: number | undefined): void {
    // A node out of the state it holds, asked under a newer one, may have been added since
    // (a joining node, or one whose news of the change was lost): it asks to be told, instead
    // of answering `retired` with a state older than the sender's, from which no one learns.
    if (!this.isMember && rank !== undefined && rank > this.rank && !this.mutations.retiredAnswers) {
      throw new ConfigStateError('config_behind', `the request was sent under a newer member set than ${describeState(this.current)}, which this node is not in; send it first`);
    }
    if (!this.isMember && !this.mutations.retiredAnswers) {
      throw new ConfigStateError('retired', `${this.self} is not a member of ${describeState(this.current)}: it no longer answers as a replica`, this.current);
    }
    if (rank === undefined || rank === this.rank || (!this.isMember && this.mutations.retiredAnswers)) return;
    if (rank < this.rank) {
      throw new ConfigStateError('stale_config', `the request was sent under an older member set; this member holds ${describeState(this.current)}`, this.current);
    }
    throw new ConfigStateError('config_behind', `the request was sent under a newer member set than ${describeState(this.current)}; send it first`);
  }
}

/** The addresses of every member taking part in `s` (both sets during a transition). */
export function participantAddresses(s: ConfigState): string[] {
  const sets: Configuration[] = s.kind === 'stable' ? [s.current] : [s.current, s.next];
  return [...new Set(sets.flatMap((c) => c.members.map((m) => m.address)))];
}

/** The founding configuration: epoch 1, members named by their bootstrap address (ids included). */
export function bootstrapState(addresses: readonly string[]): ConfigState {
  const members: Member[] = [...new Set(addresses)].sort().map((a) => ({ id: a, address: a }));
  return { kind: 'stable', current: { epoch: 1, members } };
}
