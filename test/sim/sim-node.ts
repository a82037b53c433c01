import type { MemberId } from '../../src/core/types.js';
import type { Identity } from '../../src/daemon/identity.js';
import { ShmemNode, type NodeMutations } from '../../src/daemon/node.js';
import type { CatchUpPace } from '../../src/daemon/catchup-runner.js';
import { MemoryStore, type MemoryDisk, type MemoryStoreOptions, type StoreMutations } from '../../src/storage/memory-store.js';
import type { SimLink, SimNetwork } from './network.js';
import { MemberChanges, type MemberChangeMutations } from '../../src/daemon/member-changes.js';
import type { ConfigState } from '../../src/membership/configuration.js';
import { ConfigStore, toConfigState } from '../../src/membership/config-store.js';
import { MembershipKeeper, participantAddresses } from '../../src/membership/keeper.js';
import { Random } from './random.js';
import { simLogger } from './sim-logger.js';
import type { Scope } from './world.js';

/** Broken variants of a node, to prove the checks catch them (mutation tests). */
export interface SimMutations extends NodeMutations, StoreMutations, MemberChangeMutations {
  /** A wiped node answers at once as an empty replica, without recovery. */
  readonly wipeWithoutRecovery?: boolean;
  /** A member out of the member set still answers as a replica. */
  readonly retiredAnswers?: boolean;
}

/** A node process in the simulation: one incarnation of a member, on its disk. */
export interface SimProcess {
  readonly member: MemberId;
  readonly scope: Scope;
  readonly store: MemoryStore;
  readonly node: ShmemNode;
  readonly links: readonly SimLink[];
  /** With membership: the state this process holds and the changes it runs. */
  readonly keeper?: MembershipKeeper;
  readonly changes?: MemberChanges;
}

export interface SimNodeOptions {
  readonly members: readonly MemberId[];
  readonly opDeadlineMs: number;
  readonly heartbeatIntervalMs: number;
  readonly store?: MemoryStoreOptions;
  /** Seed of the node's own randomness (retry jitter). */
  readonly randomSeed: number;
  readonly mutations?: SimMutations;
  /** Why the node refuses its peers now (another cluster secret), or undefined. */
  readonly refusing?: () => string | undefined;
  /** Log lines collect here (replaying a seed), or nowhere. */
  readonly log?: string[];
  /**
   * Run with configurations (docs/membership.md): the state the disk holds, or for an empty
   * disk this one (what membership-boot.ts would find: founded, or fetched with --join).
   */
  readonly membership?: { readonly initial: () => ConfigState };
  /** How catch-up paces itself on this node (default: production's). */
  readonly catchupPace?: CatchUpPace;
}

/**
 * Starts a process for `member` on `disk`, as `shmem start` does: the identity from the disk
 * (node id kept, incarnation bumped, a wiped dir not initialised: loadIdentity's rules), a
 * store, links over the simulated network, the real ShmemNode, and the peer API the HTTP
 * server would serve (the node's replica, pages and ping), attached to the network.
 */
export function startSimNode(net: SimNetwork, member: MemberId, disk: MemoryDisk, o: SimNodeOptions): SimProcess {
  const scope = net.world.scope(member);
  const store = new MemoryStore(disk, scope, { ...o.store, mutations: o.mutations });
  const identity = loadSimIdentity(member, store, o.mutations?.wipeWithoutRecovery ?? false);
  const random = new Random(o.randomSeed);
  const logger = simLogger(o.log, scope, { nodeId: identity.nodeId });
  // The member set, as membership-boot.ts finds it: held by the disk, or given for an empty one.
  let keeper: MembershipKeeper | undefined;
  let configStore: ConfigStore | undefined;
  if (o.membership) {
    configStore = new ConfigStore(store, `${member}'s disk`);
    const held = configStore.state();
    keeper = new MembershipKeeper(configStore, held ?? o.membership.initial(), member, { retiredAnswers: o.mutations?.retiredAnswers === true });
  }
  const members = keeper ? participantAddresses(keeper.state) : o.members;
  const links = net.linksFor(member, scope, members.filter((x) => x !== member));
  const node = new ShmemNode({
    config: { self: member, members: o.members, opDeadlineMs: o.opDeadlineMs, heartbeatIntervalMs: o.heartbeatIntervalMs },
    identity, store, links, clock: scope, random,
    logger, clusterId: 'sim', version: 'sim', mutations: o.mutations, ...(o.catchupPace ? { catchupPace: o.catchupPace } : {}),
    ...(keeper ? { membership: { keeper, linkTo: (a: MemberId) => net.linkTo(member, scope, a) } } : {}),
  });
  const changes = keeper && configStore ? new MemberChanges({
    self: member, nodeId: identity.nodeId, keeper, configStore, replica: node.replica, opDeadlineMs: o.opDeadlineMs, clusterId: 'sim', logger, clock: scope, random,
    linkTo: (a) => {
      const own = node.link(a) as SimLink | undefined;
      if (own) return { link: own, release: () => {} };
      const temporary = net.linkTo(member, scope, a);
      return { link: temporary, release: () => temporary.close() };
    },
    ...(o.mutations ? { mutations: o.mutations } : {}),
  }) : undefined;
  net.attach(member, {
    scope,
    server: {
      query: (addrs, want, rank) => node.replica.query(addrs, want, rank),
      update: (items, rank) => node.replica.update(items, rank),
      acceptRmw: (messages, rank) => node.replica.rmw(messages, rank),
      registers: (after, limit, rank) => node.replica.page(after, limit, rank),
      acceptorPage: (after, rank) => node.replica.acceptorPage(after, rank),
      mergeAcceptors: (rows, rank) => node.replica.mergeAcceptors(rows, rank),
      changes: (since, limit, values, rank, from, log) => node.changes(since, limit, values, rank, from, log),
      tagPage: (after, limit, rank) => node.replica.tagPage(after, limit, rank),
      ping: () => node.ping(),
      ...(keeper && changes ? {
        config: () => ({ clusterId: 'sim', nodeId: identity.nodeId, state: keeper.state }),
        pushConfig: (state: unknown) => {
          const parsed = toConfigState((state as { state?: unknown } | null)?.state ?? state);
          if (typeof parsed !== 'string') keeper.adopt(parsed);
          return { clusterId: 'sim', nodeId: identity.nodeId, state: keeper.state };
        },
        paxos: (message: unknown) => changes.acceptorStep(message),
      } : {}),
    },
    refusing: o.refusing ?? (() => undefined),
  });
  scope.enter(() => {
    node.start();
    changes?.start();
  });
  return { member, scope, store, node, links, ...(keeper ? { keeper } : {}), ...(changes ? { changes } : {}) };
}

/** The process dies (SIGKILL): nothing of it runs again, its queued updates are lost. */
export function killSimNode(net: SimNetwork, p: SimProcess): void {
  p.scope.kill();
  p.store.kill();
  net.detach(p.member);
}

/** The node id comes from the disk (a wiped disk gets a new one), the incarnation is bumped durably. */
function loadSimIdentity(member: MemberId, store: MemoryStore, wipeWithoutRecovery: boolean): Identity {
  const wiped = store.disk.generation > 0;
  const nodeId = store.getMeta('node_id') ?? `${member}${wiped ? `w${store.disk.generation}` : ''}`;
  store.setMeta('node_id', nodeId);
  const incarnation = Number(store.getMeta('incarnation') ?? '0') + 1;
  store.setMeta('incarnation', String(incarnation));
  // The mutation: a wiped node believes it is initialised, and answers with nothing.
  if (wipeWithoutRecovery && wiped) store.setMeta('initialized', '1');
  return { nodeId, incarnation, writer: `${nodeId}.${incarnation}`, initialized: store.getMeta('initialized') === '1' };
}
