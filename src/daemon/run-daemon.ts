import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clusterId as computeClusterId } from '../config/members.js';
import type { Config } from '../config/config.js';
import { Coordinator } from '../core/coordinator.js';
import { majority } from '../core/quorum.js';
import type { Addr, ReadResult, RegisterItem, Versioned, WriteResult } from '../core/types.js';
import { jsonLogger, type Logger } from '../log/logger.js';
import { createHttpServer } from '../server/http-server.js';
import type { NodeApi, Readiness } from '../server/node-api.js';
import { SqliteStore } from '../storage/sqlite-store.js';
import { HttpLink } from '../transport/http-link.js';
import { PeerChannel } from '../transport/peer-channel.js';
import { LocalLink } from '../transport/peer-link.js';
import type { PingReply } from '../transport/wire.js';
import { limits } from '../core/limits.js';
import { VERSION } from '../version.js';
import { Recovery } from '../core/recovery.js';
import { NodeMetrics } from '../metrics/metrics.js';
import { FailureDetector } from './failure-detector.js';
import { loadIdentity, markInitialized, type Identity } from './identity.js';
import { createPeerGuard } from './peer-guard.js';
import { Replica } from './replica.js';
import { notifySystemd } from './systemd.js';
import { runRecovery } from './recovery-runner.js';
import { Runtime } from './runtime.js';
import { reachableMembers, verdict } from './status.js';

/** A running node: what `stop()` needs and what tests may inspect. */
export interface RunningDaemon {
  readonly port: number;
  stop(reason: string): Promise<void>;
}

/**
 * Starts a node: open storage, establish identity, wire coordinator, transport and HTTP,
 * then start heartbeats. Straight-line wiring in order, one comment per step (rqlite's main).
 */
export async function runDaemon(config: Config, logger: Logger = jsonLogger(config.logLevel, { node: config.self })): Promise<RunningDaemon> {
  const startedAt = Date.now();
  logger.info('starting shmem', { version: VERSION, pid: process.pid, config });

  // Open the database (creates or migrates the schema) and load who we are.
  const store = new SqliteStore(config.dataDir, config.durability);
  let identity: Identity;
  try {
    identity = loadIdentity(store, config.members, config.dataDir);
  } catch (err) {
    await store.close();
    throw err;
  }
  // From here on every log line names the node id too, not only its address.
  logger = logger.child({ nodeId: identity.nodeId });
  const clusterId = computeClusterId(config.members);
  const quorum = majority(config.members.length);

  // The replica role; it stays silent while a new or wiped data dir is being recovered.
  const replica = new Replica(store, !identity.initialized);
  const recovery = identity.initialized ? undefined : new Recovery(config.self, config.members, quorum);

  // The pure protocol core and the runtime that carries out its effects.
  const coordinator = new Coordinator({ self: config.self, writer: identity.writer, members: config.members, quorum });
  let metrics: NodeMetrics | undefined;
  const runtime = new Runtime(coordinator, config.opDeadlineMs, logger, (op, outcome, seconds, fastPath) => metrics?.observeOp(op, outcome, seconds, fastPath));

  // Largest peer request or answer: a full batch of the largest values, JSON-escaped.
  const peerBodyBytesMax = 8 * Math.max(config.valueBytesMax, limits.batchValueBytesMax) + 1024 * 1024;

  // One channel per member: the local replica without a network hop, peers over HTTP.
  const links = config.peers.map((m) => new HttpLink(m, {
    self: config.self, members: config.members, clusterId, requestDeadlineMs: config.peerRequestDeadlineMs,
    streamLineCharsMax: peerBodyBytesMax,
  }));
  runtime.addChannel(new PeerChannel(new LocalLink(config.self, replica), runtime));
  const channels = links.map((l) => new PeerChannel(l, runtime));
  for (const ch of channels) runtime.addChannel(ch);

  // Heartbeats for status and readiness (never for safety).
  const detector = new FailureDetector(links, config.heartbeatIntervalMs, logger);

  // Prometheus metrics, read from the modules at scrape time.
  metrics = new NodeMetrics({
    peers: () => detector.health(),
    channels: () => channels.map((c) => ({ member: c.member, ...c.stats() })),
    recovering: () => replica.recovering,
  });
  store.onCommit = (seconds, items) => metrics?.observeCommit(seconds, items);

  let accepting = true;
  const node: NodeApi = {
    valueBytesMax: config.valueBytesMax,
    peerBodyBytesMax,
    read: (addr: Addr): Promise<ReadResult> => runtime.read(addr),
    write: (addr: Addr, value: string): Promise<WriteResult> => runtime.write(addr, value),
    query: (addrs: readonly Addr[]): Versioned[] => replica.query(addrs),
    update: (items: readonly RegisterItem[]): Promise<void> => replica.update(items),
    registers: (after, limit) => replica.page(after, limit),
    tags: (after, limit) => store.list(after, limit).map(({ addr, tag }) => ({ addr, tag })),
    checkPeer: createPeerGuard(config.self, config.members, clusterId, logger),
    ping: (): PingReply => ({ member: config.self, nodeId: identity.nodeId, version: VERSION, clusterId, recovering: replica.recovering }),
    status: () => {
      const peers = detector.health();
      const up = reachableMembers(config.self, peers).length;
      return {
        node: {
          id: identity.nodeId, member: config.self, writer: identity.writer, incarnation: identity.incarnation,
          version: VERSION, pid: process.pid, uptimeMs: Date.now() - startedAt, dataDir: config.dataDir,
          recovering: replica.recovering,
          recovery: recovery ? { sourcesNeeded: recovery.needed, sourcesDone: recovery.sources } : null,
        },
        cluster: {
          id: clusterId, members: config.members, size: config.members.length, quorum, up,
          hasQuorum: up >= quorum, verdict: verdict(up, config.members.length, quorum),
        },
        peers,
        store: store.stats(),
        ops: runtime.stats(),
        transport: Object.fromEntries(channels.map((c) => [c.member, c.stats()])),
      };
    },
    metrics: async () => ({ contentType: metrics!.contentType, text: await metrics!.text() }),
    readiness: (): Readiness => {
      const up = reachableMembers(config.self, detector.health()).length;
      const checks = [
        `${accepting ? '[+]' : '[-]'}node ${accepting ? 'ok' : 'shutting down'}`,
        '[+]store ok',
        replica.recovering
          ? `[-]replica recovering: ${recovery?.sources.length ?? 0}/${recovery?.needed ?? 0} other members copied`
          : '[+]replica ok',
        `${up >= quorum ? '[+]' : '[-]'}quorum ${up >= quorum ? 'ok' : 'unavailable'}: ${up}/${config.members.length} members reachable, ${quorum} needed`,
      ];
      return { ready: accepting && !replica.recovering && up >= quorum, checks };
    },
  };

  // Serve clients and peers.
  const server = createHttpServer(node, logger);
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  detector.start();
  const stopRecovery = new AbortController();
  if (recovery) {
    if (recovery.needed > 0) {
      logger.warn('new or wiped data dir: copying the registers of other members before answering as a replica', {
        sourcesNeeded: recovery.needed,
      });
    }
    runRecovery(recovery, links, store, logger, stopRecovery.signal).then((sources) => {
      if (stopRecovery.signal.aborted) return;
      markInitialized(store);
      replica.recovering = false;
      logger.info('recovery complete: answering as a replica', { sources });
    }, (err: unknown) => {
      logger.error('recovery failed', { err: String(err) });
      process.exitCode = 70;
      void stop('recovery failed');
    });
  }
  notifySystemd('ready', `serving ${config.self} (${config.members.length} members)`, logger);
  logger.info('serving', {
    member: config.self, nodeId: identity.nodeId, incarnation: identity.incarnation,
    members: config.members, quorum, dataDir: config.dataDir,
  });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info('shutting down', { reason, inFlight: runtime.stats().inFlight });
      notifySystemd('stopping', `draining (${reason})`, logger);
      accepting = false;
      server.close();
      server.closeIdleConnections();
      detector.stop();
      stopRecovery.abort();
      await runtime.shutdown(Math.min(config.opDeadlineMs, 10_000));
      server.closeAllConnections();
      for (const l of links) l.close();
      await store.close();
      logger.info('stopped', { reason });
    })();
    return stopping;
  };
  return { port, stop };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
