import type { Config } from '../config/config.js';
import { clusterId as bootstrapClusterId, describeMemberDifference } from '../config/members.js';
import type { MemberId } from '../core/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { compareStates, type ConfigState } from '../membership/configuration.js';
import { ConfigStore, describeState, toConfigState } from '../membership/config-store.js';
import { bootstrapState, participantAddresses } from '../membership/keeper.js';
import type { RegisterStore } from '../storage/register-store.js';
import type { ConfigLink } from '../transport/peer-link.js';

/** Where this start's member set came from. */
export interface MembershipBoot {
  readonly store: ConfigStore;
  readonly state: ConfigState;
  readonly clusterId: string;
  /** This start joined a running cluster (--join): its registers come with the state transfer, not recovery. */
  readonly joined: boolean;
}

const CLUSTER_ID_KEY = 'cluster_id';
/** How long a joining node keeps asking its --join endpoints before it gives up. */
const JOIN_WAIT_MS = 15_000;

/**
 * The member set at start-up (docs/membership.md): the configuration the data dir holds; or,
 * for a data dir of before configurations, its recorded member set as epoch 1; or, for a new
 * data dir, the founding set from --peers (epoch 1), or the running cluster's configuration
 * fetched from a --join endpoint. The cluster id is made once, with the first configuration,
 * and kept: it never changes when the member set does.
 */
export async function loadMembership(
  meta: Pick<RegisterStore, 'getMeta' | 'setMeta'>, config: Config, where: string, logger: Logger,
  joinLink: (address: MemberId) => ConfigLink,
): Promise<MembershipBoot> {
  const store = new ConfigStore(meta, where);
  const stored = store.state();
  const clusterId = meta.getMeta(CLUSTER_ID_KEY);
  if (stored !== undefined && clusterId !== undefined) {
    const founders = participantAddresses(stored);
    if (config.peers.length > 0 && founders.slice().sort().join(',') !== [...config.members].sort().join(',')) {
      logger.warn('--peers differs from the member set this data dir holds; the data dir\'s is used (--peers only founds a new cluster)', {
        holds: describeState(stored), peers: config.members, difference: describeMemberDifference(founders, config.members),
      });
    }
    if (config.join.length > 0) logger.info('this data dir already has a member set; --join is not needed', { holds: describeState(stored) });
    return { store, state: stored, clusterId, joined: false };
  }
  if (config.join.length > 0) return join(store, meta, config, logger, joinLink);
  // A data dir of shmem 0.1 kept its member set as a list; a new one is founded from --peers.
  const legacy = meta.getMeta('members');
  const founders = legacy !== undefined ? parseLegacy(legacy, where) : config.members;
  const id = bootstrapClusterId(founders);
  if (legacy === undefined && config.peers.length > 0) {
    // An empty data dir of a founding member may be a wiped one, of a cluster that has changed
    // its member set since it was founded: then it takes the cluster's configuration, not epoch 1.
    const found = await runningConfiguration(config.peers, id, joinLink);
    if (found !== undefined) {
      store.saveState(found);
      meta.setMeta(CLUSTER_ID_KEY, id);
      logger.warn('empty data dir of a founding member: the cluster has changed its member set since, so this node takes that one', { state: describeState(found) });
      return { store, state: found, clusterId: id, joined: false };
    }
  }
  const state = bootstrapState(founders);
  store.saveState(state);
  meta.setMeta(CLUSTER_ID_KEY, id);
  return { store, state, clusterId: id, joined: false };
}

/** A configuration past epoch 1 that one of `peers` of cluster `id` holds, asked once each, or undefined. */
async function runningConfiguration(peers: readonly MemberId[], id: string, link: (address: MemberId) => ConfigLink): Promise<ConfigState | undefined> {
  const answers = await Promise.all(peers.map(async (address) => {
    const l = link(address);
    try {
      const a = await l.config(AbortSignal.timeout(2_000));
      const s = toConfigState(a.state);
      return a.clusterId === id && typeof s !== 'string' && (s.kind === 'joint' || s.current.epoch > 1) ? s : undefined;
    } catch {
      return undefined;
    } finally {
      l.close();
    }
  }));
  let newest: ConfigState | undefined;
  for (const s of answers) if (s !== undefined && (newest === undefined || compareStates(s, newest) > 0)) newest = s;
  return newest;
}

async function join(
  store: ConfigStore, meta: Pick<RegisterStore, 'getMeta' | 'setMeta'>, config: Config, logger: Logger,
  joinLink: (address: MemberId) => ConfigLink,
): Promise<MembershipBoot> {
  const deadline = Date.now() + JOIN_WAIT_MS;
  const problems = new Map<string, string>();
  for (let attempt = 0; Date.now() < deadline; attempt += 1) {
    for (const address of config.join) {
      const link = joinLink(address);
      try {
        const answer = await link.config(AbortSignal.timeout(5_000));
        const state = toConfigState(answer.state);
        if (typeof state === 'string') throw new Error(`it answered a configuration that is not valid: ${state}`);
        if (participantAddresses(state).includes(config.self)) {
          // It already counts us (a member whose data dir was replaced): recover like any wiped member.
          logger.warn('this address is already a member; its data dir is new, so it recovers from the others', { state: describeState(state) });
        }
        store.saveState(state);
        meta.setMeta(CLUSTER_ID_KEY, answer.clusterId);
        logger.info(`fetched the member set from ${address}; waiting to be added (shmem member add ${config.self})`, {
          state: describeState(state), clusterId: answer.clusterId,
        });
        return { store, state, clusterId: answer.clusterId, joined: !participantAddresses(state).includes(config.self) };
      } catch (err) {
        problems.set(address, (err as Error).message.slice(0, 200));
      } finally {
        link.close();
      }
    }
    if (attempt === 0) logger.warn('no --join endpoint answered yet; retrying', { problems: Object.fromEntries(problems) });
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new ConfigError(`--join: none of ${config.join.join(', ')} gave its member set within ${JOIN_WAIT_MS / 1000} s: ${[...problems].map(([a, p]) => `${a}: ${p}`).join('; ')}`, {
    hint: 'name running members of the cluster, and give this node the same credentials (CA, cluster secret) as theirs',
  });
}

function parseLegacy(text: string, where: string): MemberId[] {
  try {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string')) return v;
  } catch {
    // falls through
  }
  throw new ConfigError(`${where}: the stored member list is damaged`, { hint: 'restore the data dir from a backup, or start on an empty one (it recovers from the others)' });
}
