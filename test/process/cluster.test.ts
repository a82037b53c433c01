import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, freePorts, http, NodeProcess, readVia, tempDir, withCluster, writeVia } from '../helpers/cluster.js';

const test = suite('cluster (real processes)');

test('a write through one node is read through every node', () => withCluster(async (c) => {
  const w = await writeVia(c.node(0), 3, 'foo');
  assert.is(w.status, 200, w.text);
  assert.is(w.body.addr, 3);
  assert.is(w.body.tag.seq, 1);
  for (const n of c.nodes) {
    const r = await readVia(n, 3);
    assert.is(r.status, 200, r.text);
    assert.equal(r.body, { addr: 3, value: 'foo', tag: w.body.tag });
  }
  const never = await readVia(c.node(1), 4);
  assert.equal(never.body, { addr: 4, value: null, tag: { seq: 0, writer: '' } });
}));

test('/status gives the last contact with each peer in whole milliseconds (top printed "339.14156200…" before)', () => withCluster(async (c) => {
  await new Promise((r) => setTimeout(r, 400)); // a few heartbeats
  const status = await (await fetch(`${c.node(0).url}/status`)).json() as { peers: { member: string; lastContactMsAgo: number | null }[] };
  assert.is(status.peers.length, 2);
  for (const p of status.peers) assert.ok(Number.isInteger(p.lastContactMsAgo), `${p.member}: ${p.lastContactMsAgo}`);
}));

test('one node SIGKILLed: the others keep serving, and the restarted node serves the newest value', () => withCluster(async (c) => {
  assert.is((await writeVia(c.node(0), 1, 'before')).status, 200);
  await c.node(2).stop('SIGKILL');
  const w = await writeVia(c.node(0), 1, 'while-down');
  assert.is(w.status, 200, w.text);
  assert.is((await readVia(c.node(1), 1)).body.value, 'while-down');
  c.node(2).start();
  await c.node(2).waitFor();
  const r = await readVia(c.node(2), 1);
  assert.is(r.status, 200, r.text);
  assert.is(r.body.value, 'while-down');
  assert.equal(r.body.tag, w.body.tag);
}));

test('two nodes down: 503 quorum_unavailable, never a stale value', () => withCluster(async (c) => {
  assert.is((await writeVia(c.node(0), 5, 'v1')).status, 200);
  await c.node(1).stop('SIGKILL');
  await c.node(2).stop('SIGKILL');
  const r = await readVia(c.node(0), 5);
  assert.is(r.status, 503, r.text);
  assert.is(r.body.error.code, 'quorum_unavailable');
  assert.not.ok('value' in r.body, 'no value in a failed read');
  const w = await writeVia(c.node(0), 5, 'v2');
  assert.is(w.status, 503, w.text);
  assert.is(w.body.error.code, 'quorum_unavailable');
  // With a majority back, the failed write may or may not have taken effect, but the value is one that was written.
  c.node(1).start();
  await c.node(1).waitFor();
  const after = await readVia(c.node(1), 5);
  assert.is(after.status, 200, after.text);
  assert.ok(['v1', 'v2'].includes(after.body.value), `read ${after.body.value}`);
}, ['--op-deadline-ms', '1000']));

test('all three SIGKILLed and restarted keep every acknowledged write', () => withCluster(async (c) => {
  const acked = new Map<number, string>();
  await Promise.all(Array.from({ length: 60 }, async (_, i) => {
    const value = `durable-${i}-${'x'.repeat(i)}`;
    const w = await writeVia(c.node(i % 3), i, value);
    assert.is(w.status, 200, w.text);
    acked.set(i, value);
  }));
  await Promise.all(c.nodes.map((n) => n.stop('SIGKILL')));
  for (const n of c.nodes) n.start();
  await c.waitReady();
  for (const [addr, value] of acked) {
    const r = await readVia(c.node(addr % 3 === 0 ? 1 : 0), addr);
    assert.is(r.status, 200, r.text);
    assert.is(r.body.value, value, `address ${addr}`);
  }
}));

test('concurrent writers on one address through different nodes all complete; every node then reads the same value', () => withCluster(async (c) => {
  const written = new Set<string>();
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => {
    const value = `w${i}`;
    written.add(value);
    return writeVia(c.node(i % 3), 7, value);
  }));
  for (const w of results) assert.is(w.status, 200, w.text);
  const tags = new Set(results.map((w) => `${w.body.tag.seq}@${w.body.tag.writer}`));
  assert.is(tags.size, results.length, 'every write got its own tag');
  const reads = await Promise.all(c.nodes.map((n) => readVia(n, 7)));
  for (const r of reads) assert.is(r.status, 200, r.text);
  assert.ok(written.has(reads[0]!.body.value));
  for (const r of reads) assert.equal(r.body, reads[0]!.body);
}));

test('SIGTERM and SIGINT stop a node cleanly with exit code 0', () => withCluster(async (c) => {
  assert.is((await writeVia(c.node(0), 9, 'x')).status, 200);
  assert.is(await c.node(2).stop('SIGTERM'), 0);
  assert.match(c.node(2).log, /"msg":"stopped"/);
  // Structured logs: JSON lines; once the node knows its id, every line carries it and its address.
  const lines = c.node(2).log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const serving = lines.findIndex((l) => l['msg'] === 'serving');
  assert.ok(serving > 0, 'a serving line');
  for (const l of lines.slice(serving)) {
    assert.type(l['ts'], 'string');
    assert.type(l['level'], 'string');
    assert.is(l['node'], `127.0.0.1:${c.node(2).port}`);
    assert.match(String(l['nodeId']), /^[0-9a-f]{8}$/);
  }
  assert.is(await c.node(1).stop('SIGINT'), 0);
  // The data is intact after a clean stop.
  c.node(1).start();
  c.node(2).start();
  await c.waitReady();
  assert.is((await readVia(c.node(2), 9)).body.value, 'x');
}));

test('a node with another member set is refused, and says why', async () => {
  const cluster = await Cluster.start(3);
  const [rogueport] = await freePorts(1);
  const dir = tempDir();
  // The rogue believes the cluster is itself plus two of the real members.
  const rogue = new NodeProcess(rogueport!, [cluster.node(0).port, cluster.node(1).port], dir);
  try {
    rogue.start();
    await rogue.waitFor('/livez');
    const w = await writeVia(rogue, 1, 'rogue');
    assert.is(w.status, 409, w.text);
    assert.is(w.body.error.code, 'membership_mismatch');
    assert.match(w.body.error.message, `127.0.0.1:${cluster.node(2).port}`);
    // The real cluster never saw the rogue's value.
    assert.is((await readVia(cluster.node(0), 1)).body.value, null);
    // Peers report it in status.
    const status = await (await fetch(`${rogue.url}/status`)).json() as { peers: { state: string }[] };
    assert.equal(status.peers.map((p) => p.state), ['mismatch', 'mismatch']);
  } catch (err) {
    (err as Error).message += `\n${rogue.log}`;
    throw err;
  } finally {
    await rogue.stop('SIGKILL');
    await cluster.destroy();
  }
});

test('restarting a data dir with another --peers keeps the member set it holds, and says so', () => withCluster(async (c) => {
  await c.node(2).stop('SIGTERM');
  const [other] = await freePorts(1);
  const moved = new NodeProcess(c.node(2).port, [c.node(0).port, other!], c.node(2).dataDir);
  c.nodes[2] = moved; // stopped with the cluster
  moved.start();
  await moved.waitFor();
  assert.match(moved.log, /--peers differs from the member set this data dir holds; the data dir's is used/);
  assert.match(moved.log, `127.0.0.1:${other}`);
  // It still counts the real members, not the one --peers names.
  const status = await http(`${moved.url}/status`);
  assert.not.ok(status.body.cluster.members.includes(`127.0.0.1:${other}`));
  assert.is((await writeVia(moved, 5, 'kept')).status, 200);
}));

test.run();
