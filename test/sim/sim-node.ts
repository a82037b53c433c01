import type { MemberId } from '../../src/core/types.js';
import type { Identity } from '../../src/daemon/identity.js';
import { ShmemNode, type NodeMutations } from '../../src/daemon/node.js';
import { MemoryStore, type MemoryDisk, type MemoryStoreOptions, type StoreMutations } from '../../src/storage/memory-store.js';
import type { SimLink, SimNetwork } from './network.js';
import { Random } from './random.js';
import { simLogger } from './sim-logger.js';
import type { Scope } from './world.js';

/** Broken variants of a node, to prove the checks catch them (mutation tests). */
export interface SimMutations extends NodeMutations, StoreMutations {
  /** A wiped node answers at once as an empty replica, without recovery. */
  readonly wipeWithoutRecovery?: boolean;
}

/** A node process in the simulation: one incarnation of a member, on its disk. */
export interface SimProcess {
  readonly member: MemberId;
  readonly scope: Scope;
  readonly store: MemoryStore;
  readonly node: ShmemNode;
  readonly links: readonly SimLink[];
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
  const links = net.linksFor(member, scope, o.members.filter((x) => x !== member));
  const node = new ShmemNode({
    config: { self: member, members: o.members, opDeadlineMs: o.opDeadlineMs, heartbeatIntervalMs: o.heartbeatIntervalMs },
    identity, store, links, clock: scope, random: new Random(o.randomSeed),
    logger: simLogger(o.log, scope, { nodeId: identity.nodeId }), clusterId: 'sim', version: 'sim', mutations: o.mutations,
  });
  net.attach(member, {
    scope,
    server: {
      query: (addrs, want) => node.replica.query(addrs, want),
      update: (items) => node.replica.update(items),
      registers: (after, limit) => node.replica.page(after, limit),
      ping: () => node.ping(),
    },
    refusing: o.refusing ?? (() => undefined),
  });
  scope.enter(() => node.start());
  return { member, scope, store, node, links };
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
