import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isLoopback, type Config } from '../config/config.js';
import { limits } from '../core/limits.js';
import type { Addr, ReadResult, RegisterItem, WriteResult } from '../core/types.js';
import { ConfigError, RecoveringError } from '../errors.js';
import { jsonLogger, type Logger } from '../log/logger.js';
import { LogLimiter } from '../log/rate-limited.js';
import { NodeMetrics } from '../metrics/metrics.js';
import { realClock, realRandom } from '../platform/clock.js';
import { AccessControl } from '../security/access-control.js';
import { loadCredentials, type Credentials } from '../security/credentials.js';
import { createHttpServer, secureOptions, type HttpStats } from '../server/http-server.js';
import type { NodeApi, Readiness } from '../server/node-api.js';
import { clearRunning, dataDirError, lockDataDir, markRunning, previousRun } from '../storage/data-dir.js';
import { DB_FILE, SqliteStore } from '../storage/sqlite-store.js';
import { HttpLink, type PeerCredentials } from '../transport/http-link.js';
import { JOINING_CLUSTER_ID, type PingReply } from '../transport/wire.js';
import { VERSION } from '../version.js';
import { loadIdentity, markInitialized, type Identity } from './identity.js';
import { MemberChanges } from './member-changes.js';
import { loadMembership, type MembershipBoot } from './membership-boot.js';
import { memberList, membershipApi } from './membership-api.js';
import { MembershipKeeper, participantAddresses } from '../membership/keeper.js';
import { describeState } from '../membership/config-store.js';
import type { MemberId } from '../core/types.js';
import { ShmemNode } from './node.js';
import { createPeerGuard } from './peer-guard.js';
import type { StatusDoc } from './status-doc.js';
import { notifySystemd } from './systemd.js';

/** How long `shmem repair` may compare with one member before it reports that member as failed. */
const REPAIR_DEADLINE_MS = 540_000;

/** After the operations drained: time for requests already sent on open connections to be read and answered. */
const DRAIN_GRACE_MS = 250;

/** A running node: what `stop()` needs and what tests may inspect. */
export interface RunningDaemon {
  readonly port: number;
  stop(reason: string): Promise<void>;
  /** Re-reads certificates, tokens and the cluster secret (SIGHUP); a failure keeps the old ones. */
  reload(): void;
}

/**
 * Starts a node: open storage, establish identity, wire coordinator, transport and HTTP,
 * then start heartbeats. Straight-line wiring in order, one comment per step (rqlite's main).
 */
export async function runDaemon(config: Config, logger: Logger = jsonLogger(config.logLevel, { node: config.self })): Promise<RunningDaemon> {
  const startedAt = Date.now();
  // The runtime too: the V8 heap flags the launcher passes bound the node's memory (docs/performance.md, Memory).
  const nodeRuntime = { node: process.version, v8Flags: process.execArgv.filter((a) => a.startsWith('--max-')) };
  logger.info('starting shmem', { version: VERSION, pid: process.pid, runtime: nodeRuntime, config });

  // Read and check the credentials first: a bad certificate or token file stops the start here.
  let credentials = loadCredentials(config.security);

  // Take the data dir for this process alone, then open the database (creates or migrates the
  // schema), check it, and load who we are (docs/storage-integrity.md).
  const lock = lockDataDir(config.dataDir);
  const previous = previousRun(config.dataDir);
  let store: SqliteStore;
  try {
    store = new SqliteStore(config.dataDir, config.durability);
  } catch (err) {
    lock.release();
    // A damaged file; a file where the directory should be, no permission, a full or read-only disk.
    if (/^SQLITE_(CORRUPT|NOTADB)/.test(String((err as { code?: string }).code))) throw damagedDatabase(join(config.dataDir, DB_FILE), (err as Error).message);
    throw err instanceof ConfigError ? err : dataDirError(config.dataDir, err);
  }
  let identity: Identity;
  try {
    const problem = previous.walLost ? null : store.quickCheck();
    if (problem !== null) throw damagedDatabase(store.path, `SQLite's integrity check found: ${problem.slice(0, 300)}`);
    identity = loadIdentity(store, config.dataDir, previous);
    markRunning(config.dataDir);
  } catch (err) {
    await store.close();
    lock.release();
    throw err;
  }
  // One link per member, over HTTP (the peer streams), made for the cluster this node belongs to.
  const peerCredentials = (c: Credentials, cluster: string): PeerCredentials => ({ tls: c.tls, proof: c.secret?.proof(cluster) });
  let keeper: MembershipKeeper | undefined;
  const makeLink = (member: MemberId, cluster: string): HttpLink => new HttpLink(member, {
    self: config.self, members: () => (keeper ? participantAddresses(keeper.state) : config.members), clusterId: cluster,
    nodeId: identity.nodeId, requestDeadlineMs: config.peerRequestDeadlineMs, valueBytesMax: config.valueBytesMax,
    credentials: peerCredentials(credentials, cluster),
  });
  // The member set: the configuration the data dir holds, founded from --peers, or fetched
  // from a running cluster with --join (membership-boot.ts, docs/membership.md).
  let boot: MembershipBoot;
  try {
    boot = await loadMembership(store, config, store.path, logger, (a) => makeLink(a, JOINING_CLUSTER_ID));
  } catch (err) {
    await store.close();
    clearRunning(config.dataDir);
    lock.release();
    throw err;
  }
  if (boot.joined && !identity.initialized) {
    // A joining node is filled by the state transfer of its `member add`, not by recovery: until
    // then it is counted only together with a majority of the members that have the data.
    markInitialized(store);
    identity = { ...identity, initialized: true };
  }
  const clusterId = boot.clusterId;
  keeper = new MembershipKeeper(boot.store, boot.state, config.self);
  const membershipKeeper = keeper;
  if (previous.walLost) {
    logger.warn('the node was killed and its write-ahead log is gone: acknowledged writes may be lost here; recovering from the other members', {
      file: `${store.path}-wal`,
    });
  }
  // From here on every log line names the node id too, not only its address.
  logger = logger.child({ nodeId: identity.nodeId });
  // In the order --peers gives them (status and logs list members that way), then the rest.
  const order = (a: MemberId): number => (config.peers.includes(a) ? config.peers.indexOf(a) : config.peers.length);
  const links = participantAddresses(membershipKeeper.state).filter((a) => a !== config.self)
    .sort((x, y) => order(x) - order(y)).map((a) => makeLink(a, clusterId));

  // The node itself: replica, coordinator and runtime, channels, heartbeats, recovery, repair
  // (node.ts), on the process's clock. The simulator runs the same wiring on a virtual one.
  let metrics: NodeMetrics | undefined;
  const shmem = new ShmemNode({
    config, identity, store, links, clock: realClock, random: realRandom, logger, clusterId, version: VERSION,
    membership: { keeper: membershipKeeper, linkTo: (a) => makeLink(a, clusterId) },
    onOp: (op, outcome, seconds, fastPath, phases) => metrics?.observeOp(op, outcome, seconds, fastPath, phases),
    onRmwRetry: (op) => metrics?.observeRmwRetry(op),
  });
  const { replica, runtime, detector } = shmem;

  // Changes of the member set (member-changes.ts): Paxos, the joint phase, the state transfer.
  const changes = new MemberChanges({
    self: config.self, nodeId: identity.nodeId, keeper: membershipKeeper, configStore: boot.store, replica, opDeadlineMs: config.opDeadlineMs, clusterId, logger, clock: realClock, random: realRandom,
    linkTo: (a) => {
      const own = shmem.link(a) as HttpLink | undefined;
      if (own) return { link: own, release: () => {} };
      const temporary = makeLink(a, clusterId);
      return { link: temporary, release: () => temporary.close() };
    },
    onStep: (step) => metrics?.observeMemberChange(step),
  });
  const members = { keeper: membershipKeeper, changes, clusterId, nodeId: identity.nodeId, self: config.self, peers: () => detector.health(), tls: config.security.tls !== undefined };

  // Prometheus metrics, read from the modules at scrape time.
  metrics = new NodeMetrics({
    peers: () => detector.health(),
    channels: () => shmem.channels.map((c) => ({ member: c.member, ...c.stats() })),
    recovering: () => replica.recovering,
    damaged: () => store.stats().damaged,
    epoch: () => membershipKeeper.epoch,
    joint: () => membershipKeeper.state.kind === 'joint',
    catchup: () => shmem.catchup.lag(),
    pullers: () => shmem.peersBehind(),
  });
  store.onCommit = (seconds, items, waitedSeconds) => metrics?.observeCommit(seconds, items, waitedSeconds);
  store.onDamage = (addr, what) => {
    metrics?.observeDamage();
    // A value alone: its tag still answers (docs/storage-integrity.md); tag fields: nothing until repaired.
    const effect = what === 'value checksum'
      ? 'its value is never given out; its tag still counts, and the next write or a repair from the other members heals it'
      : 'not answered until repaired from the other members';
    logger.error(`a stored register failed its checksum: ${effect}`, { addr, check: what, file: store.path });
  };
  store.onHealthChange = (health) => {
    if (health.ok) logger.warn('storage commits succeed again', { file: store.path });
    else logger.error('storage unavailable: updates are refused until a commit succeeds', { reason: health.reason });
  };

  // Who may call what: checked once per request by the server (security/access-control.ts).
  const access = new AccessControl(credentials, {
    clusterId, clientCertAuth: config.security.clientCertAuth, logger,
    onRefused: (scope, code) => metrics?.observeAccessRefused(scope, code),
  });
  const peerInputLog = new LogLimiter(60_000);

  let accepting = true;
  let httpStats: (() => HttpStats) | undefined;
  const node: NodeApi = {
    valueBytesMax: config.valueBytesMax,
    read: (addr: Addr): Promise<ReadResult> => shmem.read(addr),
    write: (addr: Addr, value: string): Promise<WriteResult> => shmem.write(addr, value),
    query: (addrs, want, rank) => replica.query(addrs, want, rank),
    update: (items: readonly RegisterItem[], rank): Promise<void> => replica.update(items, rank),
    rmw: (addr, change) => shmem.rmw(addr, change),
    acceptRmw: (messages, rank, inlineOnly) => replica.rmw(messages, rank, inlineOnly),
    registers: (after, limit, rank) => replica.page(after, limit, rank),
    acceptorPage: (after, rank) => replica.acceptorPage(after, rank),
    mergeAcceptors: (rows, rank) => replica.mergeAcceptors(rows, rank),
    changes: (since, limit, values, rank, from, log) => shmem.changes(since, limit, values, rank, from, log),
    tagPage: (after, limit, rank) => replica.tagPage(after, limit, rank),
    tags: (from, limit) => store.tags(from, limit),
    membership: membershipApi(members),
    checkPeer: createPeerGuard(config.self, () => participantAddresses(membershipKeeper.state), clusterId, identity.nodeId, logger),
    ping: (): PingReply => shmem.ping(),
    peerInputRefused: (reason, message, from) => {
      metrics?.observePeerInputRefused(reason);
      if (peerInputLog.shouldLog(`${reason} ${from}`)) logger.warn('refused peer input', { reason, from, message });
    },
    status: async (details: boolean): Promise<StatusDoc> => {
      const v = await shmem.freshVerdict();
      const peers = detector.health();
      const doc: StatusDoc = {
        node: {
          id: identity.nodeId, member: config.self, writer: identity.writer, incarnation: identity.incarnation,
          version: VERSION, uptimeMs: Date.now() - startedAt, recovering: replica.recovering,
          recovery: shmem.recoveryStatus(),
          tls: credentials.tls !== undefined,
        },
        cluster: {
          id: clusterId, members: participantAddresses(membershipKeeper.state), size: v.size, quorum: shmem.quorum, serving: v.serving,
          hasQuorum: v.hasQuorum, verdict: v.text, verdictCode: v.code, unavailable: v.unavailable, membership: memberList(members),
        },
        peers,
        store: { ...store.stats(), health: store.health() },
        catchup: shmem.catchupStatus(),
        ops: runtime.stats(),
        http: httpStats?.(),
      };
      if (!details) return doc;
      // Local facts of this machine, for admins: where the data lives, the process, the transport.
      return {
        ...doc,
        node: { ...doc.node, pid: process.pid, dataDir: config.dataDir, security: securitySummary(config, credentials) },
        transport: Object.fromEntries(shmem.channels.map((c) => [c.member, c.stats()])),
      };
    },
    repair: async () => {
      if (replica.recovering) throw new RecoveringError('this node is recovering its data dir from the other members; repair it once it answers again');
      const started = Date.now();
      const peers = await shmem.catchup.repairNow(REPAIR_DEADLINE_MS);
      const fixed = peers.reduce((n, p) => n + p.fixed, 0);
      logger.info('repair: compared every register with the other members', { peers, fixed });
      return { member: config.self, peers, fixed, ms: Date.now() - started };
    },
    acceptDataLoss: (by: string) => shmem.acceptDataLoss(by),
    metrics: async () => ({ contentType: metrics!.contentType, text: await metrics!.text() }),
    readiness: (): Promise<Readiness> => shmem.readiness(accepting),
  };

  // Serve clients and peers, within the edge's bounds (docs/flow-control.md).
  const edge = createHttpServer(node, logger, {
    access, tls: credentials.tls, clientCertAuth: config.security.clientCertAuth,
    connectionsMax: config.connectionsMax, connectionsPerSourceMax: config.connectionsPerSourceMax,
    onConnectionRefused: (reason) => metrics?.observeConnectionRefused(reason),
  });
  httpStats = () => edge.stats();
  const server = edge.server;
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    shmem.closeLinks();
    await store.close();
    clearRunning(config.dataDir);
    lock.release();
    throw listenError(config, err);
  }
  const port = (server.address() as AddressInfo).port;
  shmem.onRecoveryFailed = () => {
    process.exitCode = 70;
    void stop('recovery failed');
  };
  shmem.start();
  changes.start();
  logger.info('security', securitySummary(config, credentials));
  if (config.insecure && !isLoopback(config.host)) {
    logger.warn('listening beyond loopback with --insecure', securitySummary(config, credentials));
  }
  notifySystemd('ready', `serving ${config.self} (${describeState(membershipKeeper.state)})`, logger);
  logger.info(membershipKeeper.isMember ? 'serving' : 'serving as a node outside the member set: waiting to be added', {
    member: config.self, nodeId: identity.nodeId, incarnation: identity.incarnation,
    members: participantAddresses(membershipKeeper.state), epoch: membershipKeeper.epoch, clusterId, quorum: shmem.quorum, dataDir: config.dataDir,
  });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info('shutting down', { reason, inFlight: runtime.stats().inFlight });
      notifySystemd('stopping', `draining (${reason})`, logger);
      accepting = false;
      edge.beginDrain();
      // Operations in flight finish (or fail with shutting_down); requests already on their way
      // are answered (with connection: close); then their answers are written.
      changes.stop();
      await shmem.stop(Math.min(config.opDeadlineMs, limits.drainMsMax));
      await new Promise((r) => setTimeout(r, DRAIN_GRACE_MS));
      await edge.idle(1_000);
      server.closeAllConnections();
      server.close(); // its connection checks stop too
      shmem.closeLinks();
      await store.close();
      clearRunning(config.dataDir);
      lock.release();
      logger.info('stopped', { reason });
    })();
    return stopping;
  };
  const reload = (): void => {
    try {
      const fresh = loadCredentials(config.security);
      credentials = fresh;
      access.replace(fresh);
      if (fresh.tls !== undefined) (server as HttpsServer).setSecureContext(secureOptions(fresh.tls, config.security.clientCertAuth));
      for (const l of shmem.links()) (l as HttpLink).setCredentials(peerCredentials(fresh, clusterId));
      metrics?.observeReload('ok');
      logger.info('reloaded credentials', { ...securitySummary(config, fresh), certificateNotAfter: fresh.tls?.notAfter.toISOString() });
    } catch (err) {
      metrics?.observeReload('failed');
      logger.error('reload failed; keeping the previous credentials', { err: err instanceof ConfigError ? err.message : String(err) });
    }
  };
  return { port, stop, reload };
}

/** What protects this node, for the start-up log and admins' /status. */
function securitySummary(config: Config, c: Credentials): Record<string, unknown> {
  return {
    tls: c.tls !== undefined,
    clientCertAuth: config.security.clientCertAuth,
    peerAuth: [...(c.tls ? ['certificate'] : []), ...(c.secret ? ['cluster secret'] : [])].join(' + ') || 'none',
    clientAuth: [...(config.security.clientCertAuth ? ['certificate'] : []), ...(c.tokens ? [`tokens (${c.tokens.size})`] : [])].join(' + ') || 'none',
  };
}

/** A database file SQLite finds damaged: config_invalid naming it, and what to do. */
function damagedDatabase(path: string, found: string): ConfigError {
  return new ConfigError(`database ${path} is damaged: ${found}`, {
    hint: 'move the file away and start again (the node then recovers from the other members), or restore a backup with `shmem restore`',
  });
}

/** A port or address that cannot be listened on: config_invalid naming it. */
function listenError(config: Config, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? 'another process is listening there'
    : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
    : code === 'EADDRNOTAVAIL' ? 'that address is not one of this machine\'s' : (err as Error).message;
  return new ConfigError(`cannot listen on ${config.host}:${config.port}: ${why}${code ? ` (${code})` : ''}`, {
    hint: code === 'EADDRINUSE' ? 'choose another --port, or stop the process that holds it' : 'check --host and --port',
  });
}

function listen(server: Server | HttpsServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
