import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { metric, probe, rawPeerStream, rawSocket, rssMiB, sleep, timedWrite } from '../helpers/attack.js';
import { join } from 'node:path';
import { Cluster, freePorts, http, NodeProcess, readVia, tempDir } from '../helpers/cluster.js';

/**
 * One request must not freeze a node (issue 12): huge lines, amplifying queries, many large
 * bodies, slow clients. Each attack is bounded in bytes and seconds; each test asserts the
 * node stayed responsive (a liveness bound, not a benchmark), memory stayed bounded, and the
 * stored data is unchanged.
 */
const test = suite('floods and slow clients (real processes)');
let cluster: Cluster;
const MiB = 1024 * 1024;

test.before(async () => {
  cluster = await Cluster.start(3, ['--connections-per-source-max', '200']);
  assert.is((await timedWrite(cluster.node(0), 1, 'keep')).status, 200);
});
test.after(async () => {
  await cluster?.destroy();
});

test('a 30 MiB peer-stream line without a newline is refused at the 1 MiB header bound; /livez stays fast, memory bounded', async () => {
  const node = cluster.node(1);
  const before = await rssMiB(node);
  const live = probe(`${node.url}/livez`);
  const { socket, send } = await rawPeerStream(node);
  const chunk = Buffer.alloc(MiB, 0x61);
  let answer = '';
  socket.on('data', (d) => (answer += d));
  for (let i = 0; i < 30 && !socket.destroyed && !answer.includes('exceeds'); i++) await send(chunk);
  await sleep(200);
  const seen = await live.stop();
  socket.destroy();
  assert.match(answer, /frame header exceeds the limit of 1048576 bytes/);
  assert.ok(seen.maxMs < 500, `/livez within 500 ms (slowest ${seen.maxMs} ms)`);
  assert.ok((await rssMiB(node)) - before < 64, 'memory grew by less than 64 MiB');
});

test('two such lines to two nodes: writes through the third keep succeeding', async () => {
  const streams = await Promise.all([cluster.node(0), cluster.node(1)].map((n) => rawPeerStream(n)));
  const chunk = Buffer.alloc(MiB, 0x62);
  const attack = Promise.all(streams.map(async ({ socket, send }) => {
    for (let i = 0; i < 20 && !socket.destroyed; i++) await send(chunk);
  }));
  let ok = 0;
  for (let i = 0; i < 40; i++) if ((await timedWrite(cluster.node(2), 10 + (i % 5), `w${i}`)).status === 200) ok += 1;
  await attack;
  for (const s of streams) s.socket.destroy();
  assert.is(ok, 40, `${ok} of 40 writes succeeded`);
});

test('queries asking for every value of addresses holding 1 MiB, from a reader that never reads: bounded memory, /livez answers', async () => {
  const node = cluster.node(2);
  for (let a = 0; a < 20; a++) assert.is((await timedWrite(node, 1000 + a, `${a}`.padEnd(MiB, 'y'))).status, 200);
  const before = await rssMiB(node);
  const live = probe(`${node.url}/livez`);
  const { socket, send } = await rawPeerStream(node);
  socket.pause(); // never reads an answer
  const query = (id: number): string => `${JSON.stringify({ id, op: 'query', values: true, budget: 64 * MiB, oversize: true, addrs: Array.from({ length: 20 }, (_, i) => 1000 + i) })}\n`;
  // 20 requests of 20 MiB of answers each, 14 KB in all: once 400 MiB, now bounded by the answer budget and backpressure.
  await send(Array.from({ length: 20 }, (_, i) => query(i + 1)).join(''));
  await sleep(3_000);
  const during = await rssMiB(node);
  const seen = await live.stop();
  socket.destroy();
  assert.ok(during - before < 64, `memory grew by ${during - before} MiB (less than 64)`);
  assert.ok(seen.maxMs < 400, `/livez within 400 ms (slowest ${seen.maxMs} ms): the frames of one chunk are handled one budget at a time`);
  assert.is(seen.failures, 0);
});

test('100 large /write bodies at once: at most the body budget is held, the rest are refused at once with 503 overloaded', async () => {
  const node = cluster.node(0);
  const before = await rssMiB(node);
  const sockets = await Promise.all(Array.from({ length: 100 }, () => rawSocket(node.port)));
  const answers = sockets.map((s) => {
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('error', () => {});
    return () => text;
  });
  // Each declares 6 MiB and sends the first 1 MiB of it, then stalls.
  for (const s of sockets) {
    s.write(`POST /write HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${6 * MiB}\r\n\r\n{"addr":1,"value":"`);
    s.write(Buffer.alloc(MiB, 0x7a));
  }
  await sleep(1_500);
  const overloaded = answers.filter((a) => /^HTTP\/1\.1 503/.test(a()) && a().includes('"overloaded"')).length;
  const rss = await rssMiB(node);
  const small = await timedWrite(node, 2, 'small writes still pass');
  for (const s of sockets) s.destroy();
  assert.ok(overloaded >= 85, `${overloaded} of 100 refused at once (64 MiB budget / 6 MiB bodies: at most 10 held)`);
  assert.ok(rss - before < 128, `memory grew by ${rss - before} MiB (less than 128)`);
  assert.is(small.status, 200);
  assert.equal((await readVia(cluster.node(1), 1)).body.value, 'keep', 'no body of the flood was stored');
});

test('slowloris: 400 sockets from another address trickling headers; the per-source limit holds them to 200, others are served, the refusals counted and logged', async () => {
  const node = cluster.node(1);
  const sockets = (await Promise.allSettled(Array.from({ length: 400 }, () => rawSocket(node.port, '127.0.0.2'))))
    .flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  for (const s of sockets) {
    s.on('error', () => {});
    s.write('GET /livez HTTP/1.1\r\nhost: x\r\n');
  }
  const trickle = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('x-a: b\r\n');
  }, 500);
  try {
    await sleep(1_000);
    const held = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    const started = performance.now();
    const other = await fetch(`${node.url}/livez`, { signal: AbortSignal.timeout(5_000) });
    const otherMs = performance.now() - started;
    assert.is(other.status, 200, 'a client from 127.0.0.1 is served');
    assert.ok(otherMs < 1_000, `in ${Math.round(otherMs)} ms`);
    assert.ok(held <= 200, `${held} sockets held (limit 200 per source)`);
    assert.ok((await metric(node, 'shmem_connections_refused_total{reason="per_source_max"}')) >= 150, 'refusals counted');
    assert.match(node.log, /closed a connection at a limit.*per_source_max/);
    const status = (await http(`${node.url}/status`)).body;
    assert.ok(status.http.connections.refused.per_source_max >= 150, 'and shown in /status');
    // The held ones do not live past the headers timeout (10 s, checked every second).
    const deadline = Date.now() + 14_000;
    while (Date.now() < deadline && sockets.some((s) => !s.destroyed && !s.readableEnded)) await sleep(250);
    assert.is(sockets.filter((s) => !s.destroyed && !s.readableEnded).length, 0, 'every trickling socket was closed by the node');
  } finally {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
  }
});

test('under an open-file limit of 256 the node keeps its connections below it: a flood from one address is capped, others are served', async () => {
  const [p] = await freePorts(1);
  const n = new NodeProcess(p!, [], join(tempDir(), 'fd256'));
  n.prefix = ['prlimit', '--nofile=256', '--'];
  n.start();
  try {
    await n.waitFor();
    const limits = (await http(`${n.url}/status`)).body.http.connections;
    assert.equal([limits.max, limits.perSourceMax], [192, 48], 'at most the open-file limit minus 64, a quarter of that per source');
    const sockets = (await Promise.allSettled(Array.from({ length: 300 }, () => rawSocket(n.port, '127.0.0.2'))))
      .flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const s of sockets) s.on('error', () => {});
    await sleep(500);
    const held = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    const r = await http(`${n.url}/livez`);
    for (const s of sockets) s.destroy();
    assert.ok(held <= 48, `${held} held`);
    assert.is(r.status, 200, 'a client from another address is served');
    assert.match(n.log, /closed a connection at a limit.*"reason":"per_source_max".*"perSourceMax":48/);
  } finally {
    await n.stop('SIGKILL');
  }
});

test('after all of that, every node is up and the stored value is unchanged everywhere', async () => {
  for (const n of cluster.nodes) {
    assert.ok(n.running, `node ${n.port} runs`);
    assert.is((await readVia(n, 1)).body.value, 'keep');
  }
});

test.run();
