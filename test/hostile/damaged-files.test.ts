import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { metric, sleep } from '../helpers/attack.js';
import { Cluster, http, NodeProcess, readVia, runCli, writeVia } from '../helpers/cluster.js';

/**
 * Lost and damaged files under a node (issue 12, docs/storage-integrity.md): a deleted
 * write-ahead log, bytes overwritten in the database, a structurally damaged file, a second
 * daemon on the same data dir. Acknowledged writes are never lost and a damaged register is
 * never returned.
 */
const test = suite('lost and damaged files (real processes)');
let cluster: Cluster;

test.before(async () => {
  cluster = await Cluster.start(3);
});
test.after(async () => {
  await cluster?.destroy();
});

const identityOf = async (n: NodeProcess): Promise<{ id: string; incarnation: number; writer: string }> => (await http(`${n.url}/status`)).body.node;

test('a killed node whose -wal file is deleted recovers like a wiped one: no acknowledged write lost, the incarnation not reused', async () => {
  const [a, b, c] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
  assert.is((await writeVia(a, 5, 'old')).status, 200);
  const before = await identityOf(c);
  await b.stop('SIGKILL');
  // Acknowledged by a and c alone.
  assert.is((await writeVia(a, 5, 'new')).status, 200);
  await c.stop('SIGKILL');
  const wal = join(c.dataDir, 'shmem.db-wal');
  assert.ok(existsSync(wal), 'the killed node left its write-ahead log');
  rmSync(wal);
  b.start();
  c.start();
  await b.waitFor('/livez');
  await c.waitFor('/readyz', 20_000);
  assert.match(c.log, /write-ahead log is gone/);
  const after = await identityOf(c);
  assert.is(after.id, before.id, 'the same node id (kept beside the database)');
  assert.ok(after.incarnation > before.incarnation, `a new incarnation (${after.writer} after ${before.writer}), never one already used`);
  // With a stopped, every quorum includes b or c: before the fix, {b, c} returned "old".
  await a.stop('SIGKILL');
  for (const n of [b, c]) {
    const r = await readVia(n, 5);
    assert.is(r.status, 200, r.text);
    assert.is(r.body.value, 'new', `read through ${n.port}`);
  }
  a.start();
  await cluster.waitReady();
});

/** Overwrites `from` with `to` (same length) in the stopped node's database file. */
function damage(n: NodeProcess, from: string, to: string): void {
  const file = join(n.dataDir, 'shmem.db');
  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from(from));
  assert.ok(at >= 0, `${from} is in ${file}`);
  Buffer.from(to).copy(bytes, at);
  writeFileSync(file, bytes);
}

test('bytes of a stored value overwritten in a stopped node\'s shmem.db are detected: never returned, counted, logged, repaired', async () => {
  const c = cluster.node(2);
  assert.is((await writeVia(cluster.node(0), 7, 'precious-value-0001')).status, 200);
  await sleep(300); // every replica has it (the third ack arrives after the quorum's)
  assert.is(await c.stop('SIGTERM'), 0); // a clean stop checkpoints the value into shmem.db
  damage(c, 'precious-value-0001', 'precious-value-6666');
  c.start();
  await c.waitFor();
  for (let i = 0; i < 10; i++) {
    const r = await readVia(c, 7);
    assert.is(r.status, 200, r.text);
    assert.is(r.body.value, 'precious-value-0001', 'the damaged copy is never returned');
  }
  assert.ok((await metric(c, 'shmem_register_damage_total')) >= 1, 'counted');
  assert.match(c.log, /failed its checksum.*"addr":7.*shmem\.db/);
  // Repaired from the other members within a few rounds: its own replica holds the value again.
  const deadline = Date.now() + 10_000;
  let tags: { addr: number; damaged?: boolean }[] = [];
  while (Date.now() < deadline) {
    tags = (await http(`${c.url}/tags?after=6&limit=1`)).body.items;
    if (tags[0]?.addr === 7 && !tags[0].damaged) break;
    await sleep(200);
  }
  assert.equal(tags.map((t) => [t.addr, t.damaged ?? false]), [[7, false]]);
  assert.match(c.log, /repaired damaged registers/);
  assert.is(await metric(c, 'shmem_registers_damaged'), 0);
});

test('a damaged value keeps its tag\'s vote: with another member stopped, the address stays readable and writable through both others (issue 30)', async () => {
  const [a, b, c] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
  assert.is((await writeVia(a, 5, 'precious-five-0001')).status, 200);
  await sleep(300); // every replica has it
  assert.is(await c.stop('SIGTERM'), 0);
  damage(c, 'precious-five-0001', 'precious-five-6666');
  c.start();
  await c.waitFor();
  // c finds the damage at its first read of the value (its own, as the coordinator's value source).
  assert.is((await readVia(c, 5)).body.value, 'precious-five-0001');
  assert.match(c.log, /failed its checksum.*"addr":5/);
  a.signal('SIGSTOP');
  try {
    for (const n of [b, c]) {
      const started = Date.now();
      const r = await readVia(n, 5);
      assert.is(r.status, 200, `read through ${n.port}: ${r.text}`);
      assert.is(r.body.value, 'precious-five-0001', 'the damaged bytes are never returned');
      assert.ok(Date.now() - started < 3_000, 'answered, not waited out to the deadline');
    }
    // A write through the damaged member: its query counts its tag, its update replaces the row.
    const w = await writeVia(c, 5, 'after-the-damage');
    assert.is(w.status, 200, w.text);
    for (const n of [b, c]) assert.is((await readVia(n, 5)).body.value, 'after-the-damage');
    const tags = (await http(`${c.url}/tags?after=4&limit=1`)).body.items;
    assert.equal(tags.map((t: { addr: number; damaged?: boolean }) => [t.addr, t.damaged ?? false]), [[5, false]], 'the write healed the row');
  } finally {
    a.signal('SIGCONT');
  }
});

test('a structurally damaged database is refused at start: exit 2, config_invalid naming the file and what to do', async () => {
  const c = cluster.node(2);
  for (let a = 0; a < 300; a++) await writeVia(cluster.node(0), 10_000 + a, `filler ${a} ${'f'.repeat(200)}`);
  assert.is(await c.stop('SIGTERM'), 0);
  const file = join(c.dataDir, 'shmem.db');
  const bytes = readFileSync(file);
  bytes.fill(0xff, 4096 * 3, 4096 * 3 + 64); // the header of a b-tree page
  writeFileSync(file, bytes);
  const r = await runCli(['start', '--port', String(c.port), '--data-dir', c.dataDir, '--peers', cluster.nodes.filter((n) => n !== c).map((n) => `127.0.0.1:${n.port}`).join(',')]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`database ${file.replace(/[/.]/g, '\\$&')} is damaged`));
  assert.match(r.stderr, /move the file away/);
  assert.not.match(r.stderr, /at .*\.js:\d+/);
  // The operator's way out: move it away; the node starts empty and recovers from the others.
  rmSync(file);
  rmSync(`${file}-wal`, { force: true });
  rmSync(`${file}-shm`, { force: true });
  c.start();
  await c.waitFor('/readyz', 20_000);
  assert.is((await readVia(c, 7)).body.value, 'precious-value-0001');
});

test('a second daemon on a data dir in use is refused, naming the holder\'s pid', async () => {
  const a = cluster.node(0);
  const r = await runCli(['start', '--port', '1', '--data-dir', a.dataDir]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`data dir .* is in use by another shmem process \\(pid ${a.child!.pid}\\)`));
  assert.ok(a.running);
  assert.is((await readVia(a, 7)).status, 200);
});

test.run();
