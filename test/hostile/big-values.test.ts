import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { probe, sleep, timedWrite } from '../helpers/attack.js';
import { Cluster, http, readVia } from '../helpers/cluster.js';

/**
 * Values up to the documented limit (1 MiB by default) under load (issue 12): they must not
 * cost small operations or heartbeats their deadlines, and must not turn into 503s.
 * Bounded: 16 values of 1 MiB, loads of 3 s.
 */
const test = suite('big values under load (real processes)');
let cluster: Cluster;
const MiB = 1024 * 1024;
/** A distinct value of exactly 1 MiB (the default --value-bytes-max). */
const big = (i: number): string => `${String(i).padStart(4, '0')}${'x'.repeat(MiB - 4)}`;

test.before(async () => {
  cluster = await Cluster.start(3, ['--heartbeat-ms', '200']);
  for (let i = 0; i < 16; i++) assert.is((await timedWrite(cluster.node(i % 3), i, big(i))).status, 200);
});
test.after(async () => {
  await cluster?.destroy();
});

test('64 reads of 1 MiB values in flight through one node all succeed; peers stay up; /livez stays responsive', async () => {
  const node = cluster.node(0);
  const live = probe(`${node.url}/livez`);
  let ok = 0;
  const failures: string[] = [];
  const until = Date.now() + 3_000;
  await Promise.all(Array.from({ length: 64 }, async (_, w) => {
    for (let i = w; Date.now() < until; i += 64) {
      const r = await readVia(node, i % 16);
      if (r.status === 200 && r.body.value === big(i % 16)) ok += 1;
      else failures.push(`${r.status} ${r.text.slice(0, 200)}`);
    }
  }));
  const st = (await http(`${node.url}/status`)).body;
  const seen = await live.stop();
  assert.equal(failures, [], `every read succeeded (${ok} did)`);
  assert.ok(ok >= 64, `${ok} reads`);
  assert.equal(st.peers.map((p: { state: string }) => p.state), ['up', 'up'], 'heartbeats did not queue behind the values');
  assert.is(seen.failures, 0);
  assert.ok(seen.maxMs < 1_000, `/livez answered within 1 s throughout (slowest ${seen.maxMs} ms)`);
});

test('a 1 MiB value of \\u0001 characters (6 MiB of JSON) is written within the deadline and reads back equal through every node', async () => {
  const value = '\u0001'.repeat(MiB);
  const w = await timedWrite(cluster.node(1), 100, value);
  assert.is(w.status, 200, `write answered ${w.status} ${w.code ?? ''}`);
  for (const n of cluster.nodes) {
    const r = await readVia(n, 100);
    assert.is(r.status, 200);
    assert.ok(r.body.value === value, `node ${n.port} returns the value unchanged`);
  }
});

test('small writes keep their latency while 1 MiB values are rewritten next to them', async () => {
  let bigWrites = 0;
  const until = Date.now() + 3_000;
  const rewriters = Promise.all([0, 1].map(async (w) => {
    for (let i = 0; Date.now() < until; i++) {
      const r = await timedWrite(cluster.node(w), 200 + w, big(i));
      assert.is(r.status, 200, `a big rewrite answered ${r.status} ${r.code ?? ''}`);
      bigWrites += 1;
    }
  }));
  const small: number[] = [];
  while (Date.now() < until) {
    const r = await timedWrite(cluster.node(2), 300, `small ${small.length}`);
    assert.is(r.status, 200, `a small write answered ${r.status} ${r.code ?? ''}`);
    small.push(r.ms);
    await sleep(20);
  }
  await rewriters;
  const slowest = Math.max(...small);
  assert.ok(bigWrites >= 4, `${bigWrites} big rewrites`);
  // A liveness bound, not a benchmark: within the peer deadline (1 s) with room to spare.
  assert.ok(slowest < 1_000, `every small write finished within 1 s (slowest ${Math.round(slowest)} ms of ${small.length})`);
});

test.run();
