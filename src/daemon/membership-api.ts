import { parseMemberAddress } from '../config/members.js';
import { BadInputError, MemberChangeError } from '../errors.js';
import { describeState, toConfigState } from '../membership/config-store.js';
import type { MembershipKeeper } from '../membership/keeper.js';
import type { MembershipApi } from '../server/node-api.js';
import type { PeerHealth } from './failure-detector.js';
import type { ChangeRequest, MemberChanges } from './member-changes.js';
import type { MemberList, MemberRow } from './status-doc.js';

/** Longest member id or address text a change request may name. */
const MEMBER_TEXT_MAX = 100;

/**
 * The membership part of the node's API: the peers' /peer/config and /peer/paxos, and the
 * operators' /members. Bodies are untrusted JSON: checked here into typed requests.
 */
export function membershipApi(deps: {
  readonly keeper: MembershipKeeper;
  readonly changes: MemberChanges;
  readonly clusterId: string;
  readonly nodeId: string;
  readonly self: string;
  readonly peers: () => readonly PeerHealth[];
  /** Members speak https: an address given as a URL must say so. */
  readonly tls: boolean;
}): MembershipApi {
  const { keeper, changes } = deps;
  const config = (): unknown => ({ clusterId: deps.clusterId, nodeId: deps.nodeId, state: keeper.state });
  return {
    config,
    pushConfig: (body) => {
      const state = toConfigState((body as { state?: unknown } | null)?.state);
      if (typeof state === 'string') throw new BadInputError('bad_request', `not a configuration state: ${state}`);
      try {
        keeper.adopt(state);
      } catch (err) {
        throw new BadInputError('bad_request', `refused ${describeState(state)}: ${(err as Error).message}`);
      }
      return config();
    },
    paxos: (body) => changes.acceptorStep(body),
    list: () => Promise.resolve(memberList(deps)),
    change: async (body) => {
      const outcome = await changes.change(parseChange(body, deps.tls));
      return { ...outcome, list: memberList(deps) };
    },
  };
}

/** The member list as operators see it: every member of the sets counted now, with its role in a change. */
export function memberList(deps: {
  readonly keeper: MembershipKeeper; readonly changes: MemberChanges; readonly clusterId: string; readonly nodeId: string;
  readonly self: string; readonly peers: () => readonly PeerHealth[];
}): MemberList {
  const s = deps.keeper.state;
  const health = new Map(deps.peers().map((p) => [p.member, p]));
  const row = (m: { id: string; address: string }, state: MemberRow['state']): MemberRow => {
    const h = health.get(m.address);
    const self = m.address === deps.self;
    return {
      id: m.id, address: m.address, state,
      nodeId: self ? deps.nodeId : h?.nodeId ?? null,
      health: self ? 'this node' : h ? (h.recovering ? 'recovering' : h.state) : 'unknown',
    };
  };
  let members: MemberRow[];
  if (s.kind === 'stable') {
    members = s.current.members.map((m) => row(m, 'voting'));
  } else {
    const next = new Set(s.next.members.map((m) => m.address));
    const current = new Set(s.current.members.map((m) => m.address));
    members = [
      ...s.current.members.map((m) => row(m, next.has(m.address) ? 'voting' : 'leaving')),
      ...s.next.members.filter((m) => !current.has(m.address)).map((m) => row(m, 'joining')),
    ];
  }
  const t = deps.changes.transfer;
  return {
    clusterId: deps.clusterId, epoch: deps.keeper.epoch, phase: s.kind, members, thisNodeIsMember: deps.keeper.isMember,
    transfer: t ? { epoch: t.epoch, registers: t.registers, cursor: t.cursor } : null,
  };
}

/** POST /members bodies: {"action":"add","address":..} | {"action":"remove","member":..} | {"action":"replace","member":..,"address":..}. */
export function parseChange(body: unknown, tls?: boolean): ChangeRequest {
  const shape = 'a member change is {"action":"add","address":"host:port"}, {"action":"remove","member":"id or host:port"} or {"action":"replace","member":"id or host:port","address":"host:port"} (an address may also be a URL, http(s)://host:port)';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadInputError('bad_request', shape);
  const b = body as Record<string, unknown>;
  const address = (): string => {
    if (typeof b['address'] !== 'string') throw new BadInputError('bad_request', `"address" must be host:port; ${shape}`);
    const parsed = parseMemberAddress(b['address'], tls);
    if (!parsed.ok) throw new BadInputError('bad_request', `"address": ${parsed.message}`);
    return parsed.member;
  };
  const member = (): string => {
    const m = b['member'];
    if (typeof m !== 'string' || m.trim() === '' || m.length > MEMBER_TEXT_MAX) throw new BadInputError('bad_request', `"member" must be a node id or host:port of at most ${MEMBER_TEXT_MAX} characters; ${shape}`);
    const parsed = parseMemberAddress(m, tls);
    if (!parsed.ok && m.includes('://')) throw new BadInputError('bad_request', `"member": ${parsed.message}`);
    return parsed.ok ? parsed.member : m.trim();
  };
  switch (b['action']) {
    case 'add': return { action: 'add', address: address() };
    case 'remove': return { action: 'remove', member: member() };
    case 'replace': {
      const r = { action: 'replace' as const, member: member(), address: address() };
      if (r.member === r.address) throw new MemberChangeError('change_refused', `replacing ${r.member} by itself changes nothing`);
      return r;
    }
    default: throw new BadInputError('bad_request', shape);
  }
}
