import { ConfigError } from '../errors.js';
import type { RegisterStore } from '../storage/register-store.js';
import { compareStates, configurationProblem, stateProblem, type ConfigState, type Configuration, type Member } from './configuration.js';
import { NO_ACCEPTOR_STATE, type AcceptorState, type Ballot } from './paxos.js';

/**
 * The durable part of membership (docs/membership.md): the configuration state this member
 * believes and its Paxos acceptor state, kept in the data dir's meta table. Both are written
 * before any answer that depends on them leaves the node, and both only move forward: a state
 * older than the stored one, or another configuration for an epoch already stored, is refused
 * (either would let two member sets count for one epoch).
 */

const STATE_KEY = 'config_state';
const ACCEPTOR_KEY = 'config_acceptor';
/** `<epoch>:<addr>`: how far the state transfer to that epoch got here (membership/transfer.ts). */
const TRANSFER_KEY = 'transfer_cursor';
/** Far more than 15 members need; a larger stored text is damage, not a configuration. */
const STORED_CHARS_MAX = 64 * 1024;

type Meta = Pick<RegisterStore, 'getMeta' | 'setMeta'>;

export class ConfigStore {
  constructor(private readonly meta: Meta, private readonly where: string) {}

  /** The stored configuration state, or undefined before the first one is stored. */
  state(): ConfigState | undefined {
    const text = this.meta.getMeta(STATE_KEY);
    if (text === undefined) return undefined;
    const parsed = parseStoredJson(text, (v) => toConfigState(v));
    if (typeof parsed === 'string') throw this.damaged('configuration', parsed);
    return parsed;
  }

  /** Stores `next` if it is the stored state or a newer one; refuses anything else. */
  saveState(next: ConfigState): void {
    const problem = stateProblem(next);
    if (problem !== null) throw new Error(`refusing to store an invalid configuration: ${problem}`);
    const stored = this.state();
    if (stored !== undefined) {
      const order = compareStates(next, stored);
      if (order < 0) throw new Error(`refusing to go back from ${describeState(stored)} to ${describeState(next)}`);
      if (!sameEpochsAgree(stored, next)) throw new Error(`refusing a second configuration for an epoch already stored: ${describeState(stored)} vs ${describeState(next)}`);
      if (order === 0) return;
    }
    this.meta.setMeta(STATE_KEY, JSON.stringify(next));
  }

  acceptor(): AcceptorState {
    const text = this.meta.getMeta(ACCEPTOR_KEY);
    if (text === undefined) return NO_ACCEPTOR_STATE;
    const parsed = parseStoredJson(text, toAcceptorState);
    if (typeof parsed === 'string') throw this.damaged('Paxos acceptor state', parsed);
    return parsed;
  }

  /** Stores the acceptor's state; a slot older than the stored one is refused. */
  saveAcceptor(next: AcceptorState): void {
    const stored = this.acceptor();
    if (next.slot < stored.slot) throw new Error(`refusing to move the acceptor back from slot ${stored.slot} to ${next.slot}`);
    this.meta.setMeta(ACCEPTOR_KEY, JSON.stringify(next));
  }

  /** The saved cursor of the state transfer run here, as saved. */
  transferCursor(): string | undefined {
    return this.meta.getMeta(TRANSFER_KEY);
  }

  saveTransferCursor(text: string): void {
    this.meta.setMeta(TRANSFER_KEY, text);
  }

  private damaged(what: string, problem: string): ConfigError {
    return new ConfigError(`${this.where}: the stored ${what} is damaged: ${problem}`, {
      hint: 'restore the data dir from a backup, or move it away and start the node on an empty one (it recovers from the others)',
    });
  }
}

/** "epoch 3 (a, b, c)" or "epoch 3 -> 4 (a, b, c -> a, b, c, d)". */
export function describeState(s: ConfigState): string {
  const ids = (c: Configuration): string => c.members.map((m) => m.id).join(', ');
  return s.kind === 'stable'
    ? `epoch ${s.current.epoch} (${ids(s.current)})`
    : `epoch ${s.current.epoch} -> ${s.next.epoch} (${ids(s.current)} -> ${ids(s.next)})`;
}

/** Both states name the same member set for every epoch they both name. */
function sameEpochsAgree(a: ConfigState, b: ConfigState): boolean {
  const byEpoch = new Map<number, string>();
  for (const c of configsOf(a)) byEpoch.set(c.epoch, JSON.stringify(c));
  return configsOf(b).every((c) => !byEpoch.has(c.epoch) || byEpoch.get(c.epoch) === JSON.stringify(c));
}

function configsOf(s: ConfigState): Configuration[] {
  return s.kind === 'stable' ? [s.current] : [s.current, s.next];
}

function parseStoredJson<T>(text: string, convert: (v: unknown) => T | string): T | string {
  if (text.length > STORED_CHARS_MAX) return `${text.length} characters, at most ${STORED_CHARS_MAX} expected`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  return convert(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toMember(v: unknown): Member | string {
  if (!isObject(v) || typeof v['id'] !== 'string' || typeof v['address'] !== 'string') return 'a member needs a string id and address';
  return { id: v['id'], address: v['address'] };
}

function toConfiguration(v: unknown): Configuration | string {
  if (!isObject(v) || typeof v['epoch'] !== 'number' || !Array.isArray(v['members'])) return 'a configuration needs an epoch and a member list';
  const members: Member[] = [];
  for (const m of v['members']) {
    const member = toMember(m);
    if (typeof member === 'string') return member;
    members.push(member);
  }
  return { epoch: v['epoch'], members };
}

/** A ConfigState from untrusted JSON (a file on disk, later a peer's message), or why not. */
export function toConfigState(v: unknown): ConfigState | string {
  if (!isObject(v) || (v['kind'] !== 'stable' && v['kind'] !== 'joint')) return 'kind must be "stable" or "joint"';
  const current = toConfiguration(v['current']);
  if (typeof current === 'string') return current;
  let state: ConfigState = { kind: 'stable', current };
  if (v['kind'] === 'joint') {
    const next = toConfiguration(v['next']);
    if (typeof next === 'string') return next;
    state = { kind: 'joint', current, next };
  }
  return stateProblem(state) ?? state;
}

function toBallot(v: unknown): Ballot | null | string {
  if (v === null) return null;
  if (!isObject(v) || !Number.isSafeInteger(v['round']) || typeof v['node'] !== 'string') return 'a ballot needs an integer round and a node id';
  return { round: v['round'] as number, node: v['node'] };
}

/** An AcceptorState from untrusted JSON (the data dir, a peer's register page), or why not. */
export function toAcceptorState(v: unknown): AcceptorState | string {
  if (!isObject(v) || !Number.isSafeInteger(v['slot']) || (v['slot'] as number) < 0) return 'an acceptor state needs a slot';
  const promised = toBallot(v['promised']);
  if (typeof promised === 'string') return promised;
  if (v['accepted'] === null) return { slot: v['slot'] as number, promised, accepted: null };
  if (!isObject(v['accepted'])) return 'accepted must be null or a ballot and a configuration';
  const ballot = toBallot(v['accepted']['ballot']);
  const value = toConfiguration(v['accepted']['value']);
  if (typeof ballot === 'string' || ballot === null) return 'an accepted value needs its ballot';
  if (typeof value === 'string') return value;
  const problem = configurationProblem(value);
  if (problem !== null) return problem;
  return { slot: v['slot'] as number, promised, accepted: { ballot, value } };
}
