import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { INITIAL } from '../../src/core/tag.js';
import { wantsValue, type Addr, type RegisterItem, type Versioned } from '../../src/core/types.js';
import { valueSize } from '../../src/core/value.js';
import { FRAMES } from '../../src/transport/frames.js';
import { MembershipMismatchError, RecoveringError } from '../../src/errors.js';
import { jsonLogger } from '../../src/log/logger.js';
import { createHttpServer } from '../../src/server/http-server.js';
import type { NodeApi } from '../../src/server/node-api.js';
import { HttpLink } from '../../src/transport/http-link.js';
import { PEER_PROTOCOL } from '../../src/transport/wire.js';
import { createPeerGuard } from '../../src/daemon/peer-guard.js';
import { PeerRefusedError } from '../../src/transport/peer-link.js';
import { AccessControl } from '../../src/security/access-control.js';

/** A writer id of the shape real nodes use (<nodeId>.<incarnation>); the replica refuses others. */
const WRITER = 'aaaaaaaa.1';

/**
 * The peer stream end to end: HttpLink (got) against the node's real HTTP server, with an
 * in-memory replica behind it whose updates commit only when the test says so.
 */
class TestReplica {
  readonly stored = new Map<Addr, Versioned>();
  /** Updates waiting for their "commit". */
  readonly uncommitted: (() => void)[] = [];
  holdUpdates = false;
  recovering = false;
  refuse = false;
  streams = 0;
  /** The peer protocol its pings answer (undefined: a member from before protocols were numbered). */
  protocol: number | undefined = PEER_PROTOCOL;
  /** Every query served: its addresses and whether it asked for values. */
  readonly queries: { addrs: Addr[]; values: boolean | readonly boolean[] }[] = [];
  /** Called when a value is deferred (a test may change the register meanwhile). */
  afterDefer: (() => void) | undefined;

  api(): NodeApi {
    const fail = (): never => { throw new Error('not used by this test'); };
    return {
      valueBytesMax: 2 * 1024 * 1024,
      read: fail, write: fail, rmw: fail, acceptRmw: fail, acceptorPage: fail, mergeAcceptors: fail, registers: fail, changes: fail, tagPage: fail, tags: fail, repair: fail, acceptDataLoss: fail, status: fail, metrics: fail, readiness: fail, peerInputRefused: () => {},
      membership: { config: fail, pushConfig: fail, paxos: fail, list: fail, change: fail },
      ping: () => ({ member: 'm', nodeId: 'n1', version: '0', clusterId: 'c', recovering: this.recovering, ...(this.protocol === undefined ? {} : { protocol: this.protocol }) }),
      // The store's budget rule (sqlite-store.ts): values past the budget are deferred.
      query: (addrs, want) => {
        if (this.recovering) throw new RecoveringError('recovering');
        this.queries.push({ addrs: [...addrs], values: want.values });
        let used = 0;
        return addrs.map((a, i) => {
          const v = this.stored.get(a) ?? INITIAL;
          if (!wantsValue(want.values, i)) return { tag: v.tag, value: null };
          const size = valueSize(v.value);
          const allowed = want.oversize && used === 0 ? Number.MAX_SAFE_INTEGER : want.budgetBytes - used;
          if (size > allowed) {
            this.afterDefer?.();
            return { tag: v.tag, deferredBytes: size };
          }
          used += Math.max(0, size);
          return v;
        });
      },
      update: (items) => new Promise<void>((resolve) => {
        const commit = (): void => {
          for (const { addr, tag, value } of items) this.stored.set(addr, { tag, value });
          resolve();
        };
        if (this.holdUpdates) this.uncommitted.push(commit);
        else commit();
      }),
      checkPeer: (headers) => {
        if (this.refuse) throw new MembershipMismatchError('other member set');
        if (headers['content-type'] === FRAMES) this.streams += 1;
      },
    };
  }
}

const silent = jsonLogger('error', {}, { write: () => true } as unknown as NodeJS.WritableStream);
const item = (addr: number, seq: number, value: string): RegisterItem => ({ addr, tag: { seq, writer: WRITER }, value });
const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

let replica: TestReplica;
let server: Server;
let link: HttpLink;
const signal = new AbortController().signal;

async function start(linkOptions: { requestDeadlineMs?: number; streamRenewMs?: number } = {}): Promise<void> {
  replica = new TestReplica();
  // Security off (the loopback default): every request passes the access check.
  const access = new AccessControl({ tls: undefined, secret: undefined, tokens: undefined }, {
    clusterId: 'c', clientCertAuth: false, logger: silent, onRefused: () => {},
  });
  server = createHttpServer(replica.api(), silent, { access, tls: undefined, clientCertAuth: false }).server as Server;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const member = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  link = new HttpLink(member, {
    self: '127.0.0.1:1', members: () => ['127.0.0.1:1', member], clusterId: 'c', requestDeadlineMs: 1_000,
    valueBytesMax: 2 * 1024 * 1024, ...linkOptions,
  });
}

async function stop(): Promise<void> {
  link?.close();
  server?.closeAllConnections();
  await new Promise((ok) => server?.close(ok));
}

const test = suite('peer stream (HttpLink against the node HTTP server)');
test.after.each(stop);

test('queries and updates share one stream; an update is answered only once durable', async () => {
  await start();
  replica.holdUpdates = true;
  let acked = false;
  const update = link.update([item(3, 1, 'a')], signal).then(() => (acked = true));
  const [before] = await link.query([3], true, signal); // answered while the update waits for its commit
  assert.equal(before, INITIAL);
  await settle(20);
  assert.not.ok(acked, 'not acknowledged before the commit');
  replica.uncommitted.shift()!();
  await update;
  assert.equal(await link.query([3, 4], true, signal), [{ tag: { seq: 1, writer: WRITER }, value: 'a' }, INITIAL]);
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => link.query([i], true, signal)));
  assert.is(many.length, 100);
  assert.is(replica.streams, 1, 'every request went over one stream');
});

test('a member of another version (its ping says another peer protocol, or none) is never asked anything', async () => {
  await start();
  replica.protocol = undefined; // a shmem from before compare-and-set
  for (const ask of [() => link.query([3], true, signal), () => link.update([item(3, 1, 'a')], signal), () => link.rmw([{ op: 'prepare', addr: 3, ballot: { round: 1, node: 'aaaaaaaa.1' } }], signal)]) {
    const err = await ask().then(() => undefined, (e: unknown) => e);
    assert.instance(err, PeerRefusedError);
    assert.match((err as Error).message, /speaks peer protocol 1 \(a shmem from before compare-and-set\), this member 2/);
  }
  assert.is(replica.queries.length, 0, 'no query reached it');
  assert.is(replica.uncommitted.length, 0, 'no update reached it');
});

test('the peer guard refuses a request without the peer protocol header (an older member) or with another, naming the versions', () => {
  const guard = createPeerGuard('127.0.0.1:2', () => ['127.0.0.1:1', '127.0.0.1:2'], 'c', 'n2', silent);
  const headers = { 'x-shmem-cluster': 'c', 'x-shmem-members': '127.0.0.1:1,127.0.0.1:2', 'x-shmem-from': '127.0.0.1:1' };
  guard({ ...headers, 'x-shmem-protocol': String(PEER_PROTOCOL) }); // the same version passes
  for (const [protocol, says] of [[undefined, /speaks peer protocol 1 \(a shmem from before compare-and-set\), this member 2/], ['3', /speaks peer protocol 3, this member 2/]] as const) {
    const err = (() => {
      try {
        guard({ ...headers, ...(protocol === undefined ? {} : { 'x-shmem-protocol': protocol }) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.instance(err, MembershipMismatchError);
    assert.match((err as Error).message, says);
  }
});

test('a stream with requests outstanding that receives nothing for the deadline fails; the next request goes on a new stream', async () => {
  await start({ requestDeadlineMs: 100 });
  replica.holdUpdates = true;
  const started = Date.now();
  const err = await link.update([item(1, 1, 'x')], signal).then(() => undefined, (e: Error) => e);
  assert.match(String(err?.message), /sent nothing for 100 ms with 1 requests outstanding/);
  assert.ok(Date.now() - started >= 90);
  assert.equal(await link.query([1], true, signal), [INITIAL]);
  assert.is(replica.streams, 2);
});

test('a write\'s query asks for tags only: no value travels back', async () => {
  await start();
  await link.update([item(5, 1, 'v'.repeat(100_000))], signal);
  const [answer] = await link.query([5], false, signal);
  assert.equal(answer, { tag: { seq: 1, writer: WRITER }, value: null });
  assert.equal(replica.queries.at(-1), { addrs: [5], values: false });
});

test('big values travel on the bulk lane: updates, and values a small answer deferred, fetched whole', async () => {
  await start();
  const big = 'é'.repeat(600_000); // 1.2 MB of UTF-8
  await link.update([item(1, 1, 'small'), item(2, 1, big)], signal);
  assert.is(replica.streams, 2, 'the small lane and the bulk lane');
  assert.equal(await link.query([1, 2], true, signal), [{ tag: { seq: 1, writer: WRITER }, value: 'small' }, { tag: { seq: 1, writer: WRITER }, value: big }]);
  assert.equal(replica.queries.map((q) => q.addrs), [[1, 2], [2]], 'the small answer deferred the big value; the bulk lane fetched it');
  assert.equal(link.stats(), { bulkBytesInFlight: 0, bulkWaiting: 0 }, 'the bulk budget is released');
});

test('a deferred value that changed before it was fetched comes back newer (the member\'s state during the query)', async () => {
  await start();
  await link.update([item(2, 1, 'a'.repeat(300_000))], signal);
  replica.afterDefer = () => {
    replica.afterDefer = undefined;
    replica.stored.set(2, { tag: { seq: 2, writer: WRITER }, value: 'b'.repeat(300_000) });
  };
  const [answer] = await link.query([2], true, signal);
  assert.equal(answer, { tag: { seq: 2, writer: WRITER }, value: 'b'.repeat(300_000) });
});

test('heartbeats travel on the small lane and answer while a commit is pending, recovering or not', async () => {
  await start();
  replica.holdUpdates = true;
  const update = link.update([item(1, 1, 'x')], signal);
  assert.equal(await link.ping(1_000), { member: 'm', nodeId: 'n1', version: '0', clusterId: 'c', recovering: false, protocol: PEER_PROTOCOL });
  replica.recovering = true;
  assert.is((await link.ping(1_000)).recovering, true);
  replica.uncommitted.shift()!();
  await update;
  assert.is(replica.streams, 1);
});

test('an error answer fails only its own request', async () => {
  await start();
  replica.recovering = true;
  const err = await link.query([1], true, signal).then(() => undefined, (e: Error) => e);
  assert.match(String(err?.message), /recovering/);
  assert.not.instance(err, PeerRefusedError);
  replica.recovering = false;
  assert.equal(await link.query([1], true, signal), [INITIAL]);
  assert.is(replica.streams, 1);
});

test('a member with another member set refuses the stream: PeerRefusedError', async () => {
  await start();
  replica.refuse = true;
  const err = await link.query([1], true, signal).then(() => undefined, (e: Error) => e);
  assert.instance(err, PeerRefusedError);
  assert.match(String(err?.message), /other member set/);
});

test('a member that goes away fails what is pending instead of leaving it hanging', async () => {
  await start({ requestDeadlineMs: 5_000 });
  replica.holdUpdates = true;
  const pending = link.update([item(1, 1, 'x')], signal).then(() => undefined, (e: Error) => e);
  await settle(50);
  server.closeAllConnections();
  const err = await pending;
  assert.instance(err, Error);
  assert.not.instance(err, PeerRefusedError);
});

test('streams are renewed by age; requests keep flowing and old streams finish', async () => {
  await start({ streamRenewMs: 30 });
  for (let i = 0; i < 20; i++) {
    await link.update([item(i, 1, `v${i}`)], signal);
    await settle(10);
  }
  assert.ok(replica.streams >= 4, `renewed (${replica.streams} streams)`);
  assert.equal(await link.query([19], true, signal), [{ tag: { seq: 1, writer: WRITER }, value: 'v19' }]);
  await settle(50);
  const open = (link as unknown as { open: Set<unknown> }).open.size;
  assert.is(open, 1, 'only the current stream is still open');
});

test.run();
