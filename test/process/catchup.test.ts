import Database from 'better-sqlite3';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, http, runCli, writeVia, type NodeProcess } from '../helpers/cluster.js';

const test = suite('catch-up: every replica converges without client reads (real processes)');

const ADDRESSES = 10_000;

/** Every tag a member holds, paged through its /tags (no values). */
async function allTags(n: NodeProcess): Promise<Map<number, string>> {
  const tags = new Map<number, string>();
  let after: number | null = null;
  for (;;) {
    const page = await http(`${n.url}/tags?limit=1000${after === null ? '' : `&after=${after}`}`);
    assert.is(page.status, 200, page.text);
    for (const i of page.body.items as { addr: number; tag: { seq: number; writer: string } }[]) tags.set(i.addr, `${i.tag.seq}@${i.tag.writer}`);
    if (page.body.next === null) return tags;
    after = page.body.next;
  }
}

/** Writes addresses 0..count-1 through `via`, `inFlight` at a time. */
async function writeAll(via: readonly NodeProcess[], count: number, inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async (_, k) => {
    while (next < count) {
      const addr = next++;
      const w = await writeVia(via[k % via.length]!, addr, `value-${addr}`);
      assert.is(w.status, 200, w.text);
    }
  }));
}

/** The sum of this member's lag on its peers, from its /status (null while some peer never answered). */
async function lagOf(n: NodeProcess): Promise<number | null> {
  const s = await http(`${n.url}/status`);
  const behind = s.body.catchup.behind as { changes: number | null }[];
  return behind.some((b) => b.changes === null) ? null : behind.reduce((k, b) => k + b.changes!, 0);
}

/** True when this member is behind no peer, as every peer answered it after `sinceMs` (wall clock, same machine). */
async function currentSince(n: NodeProcess, sinceMs: number): Promise<boolean> {
  const s = await http(`${n.url}/status`);
  const behind = s.body.catchup.behind as { changes: number | null; lastAnswerAgeMs: number | null }[];
  const answeredAfter = Date.now() - sinceMs;
  return behind.every((b) => b.changes === 0 && b.lastAnswerAgeMs !== null && b.lastAnswerAgeMs < answeredAfter - 100);
}

test(`${ADDRESSES.toLocaleString('en')} addresses written while one node is SIGSTOPped reach it after SIGCONT with no client read; status shows the lag shrink to zero`, async () => {
  const c = await Cluster.start(3);
  const [a, b, frozen] = c.nodes as [NodeProcess, NodeProcess, NodeProcess];
  try {
    frozen.signal('SIGSTOP');
    await writeAll([a, b], ADDRESSES, 32);

    // The others see the frozen member behind them: those writes are on two members of three.
    const deadline = Date.now() + 15_000;
    let said = '';
    while (Date.now() < deadline) {
      said = (await runCli(['status', '--endpoints', a.url])).stdout;
      if (said.includes('some acknowledged writes may be on fewer than all members')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(said, 'some acknowledged writes may be on fewer than all members', said);
    assert.match(said, new RegExp(`127\\.0\\.0\\.1:${frozen.port} has not compared [0-9,]+ changes of 127\\.0\\.0\\.1:${a.port}`));
    const metricsA = (await http(`${a.url}/metrics`)).text;
    assert.match(metricsA, new RegExp(`shmem_catchup_peer_lag_changes\\{peer="127\\.0\\.0\\.1:${frozen.port}"\\} [1-9]`));

    // Resume it and only watch: its lag on its peers shrinks to zero.
    frozen.signal('SIGCONT');
    const samples: number[] = [];
    const started = Date.now();
    for (;;) {
      const lag = await lagOf(frozen);
      if (lag !== null) samples.push(lag);
      if (lag === 0 && samples.some((s) => s > 0)) break;
      assert.ok(Date.now() - started < 60_000, `caught up within 60 s (lag samples: ${samples.join(', ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const convergedMs = Date.now() - started;

    // Every address has the same tag on all three replicas.
    const [ta, tb, tf] = await Promise.all([a, b, frozen].map(allTags)) as [Map<number, string>, Map<number, string>, Map<number, string>];
    assert.is(ta.size, ADDRESSES);
    assert.is(tf.size, ADDRESSES, `the resumed replica holds every address (${tf.size})`);
    let differing = 0;
    for (const [addr, tag] of ta) if (tb.get(addr) !== tag || tf.get(addr) !== tag) differing += 1;
    assert.is(differing, 0, 'every address has one tag on all three replicas');

    // Its lag sums to zero a moment before every view agrees: the others learn how far it compared
    // on its next pull, and a pass that compares everything may still be finishing. The status is
    // conservative until then, so ask again as a user would, for a bounded time.
    let after = '';
    for (const asked = Date.now(); ; await new Promise((r) => setTimeout(r, 200))) {
      after = (await runCli(['status', '--endpoints', frozen.url])).stdout;
      const settled = after.includes('all acknowledged writes are on every member') && new RegExp(`127\\.0\\.0\\.1:${a.port}\\s.*\\scurrent`).test(after);
      if (settled || Date.now() - asked > 15_000) break;
    }
    assert.match(after, 'all acknowledged writes are on every member', after);
    assert.match(after, new RegExp(`127\\.0\\.0\\.1:${a.port}\\s.*\\scurrent`), `its catch-up from a is current:\n${after}`);
    const metrics = (await http(`${frozen.url}/metrics`)).text;
    assert.match(metrics, new RegExp(`shmem_catchup_lag_changes\\{peer="127\\.0\\.0\\.1:${a.port}"\\} 0`));
    // No client read happened anywhere: the registers came by catch-up alone.
    for (const n of c.nodes) assert.is((await http(`${n.url}/status`)).body.ops.reads, 0);
    console.log(`  caught up ${ADDRESSES} addresses in ${(convergedMs / 1000).toFixed(1)} s (lag samples ${samples.slice(0, 6).join(', ')}…)`);
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-6000)}`;
    throw err;
  } finally {
    frozen.signal('SIGCONT');
    await c.destroy();
  }
});

test('a node killed while 3,000 addresses are written gets every one of them by catch-up once restarted, with no client read', async () => {
  const c = await Cluster.start(3);
  const [a, b, killed] = c.nodes as [NodeProcess, NodeProcess, NodeProcess];
  try {
    await killed.stop('SIGKILL');
    await writeAll([a, b], 3_000, 32);
    killed.start();
    await killed.waitFor();
    const started = Date.now();
    while ((await allTags(killed)).size < 3_000) {
      assert.ok(Date.now() - started < 60_000, 'caught up within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [ta, tk] = await Promise.all([a, killed].map(allTags)) as [Map<number, string>, Map<number, string>];
    assert.equal([...tk].sort(), [...ta].sort(), 'the restarted replica holds the same tag as the others at every address');
    const metrics = (await http(`${killed.url}/metrics`)).text;
    const fixed = [...metrics.matchAll(/^shmem_catchup_fixed_total\{peer="[^"]+"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(fixed >= 3_000, `catch-up fetched what it missed (${fixed} registers)`);
    for (const n of c.nodes) assert.is((await http(`${n.url}/status`)).body.ops.reads, 0, 'no client read repaired anything');
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-6000)}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('shmem repair finds registers that catch-up cannot see (rows lost from a data file) and fixes them', async () => {
  const c = await Cluster.start(3);
  const [a, b, damaged] = c.nodes as [NodeProcess, NodeProcess, NodeProcess];
  try {
    for (let addr = 0; addr < 50; addr++) assert.is((await writeVia(a, addr, `v${addr}`)).status, 200);
    // Its catch-up positions reach the others' heads first (so a restart has nothing to pull).
    // A lag of 0 is "as last seen": it counts only once every peer answered after the writes
    // (a fresh-clone run stopped the node on a 0 seen before them, and its restart pulled the rows back).
    const written = Date.now();
    const started = Date.now();
    while (!(await currentSince(damaged, written))) {
      assert.ok(Date.now() - started < 30_000, 'catch-up current within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Stop it cleanly and take ten rows out of its database behind its back: its catch-up
    // positions still say it has everything, so only a full comparison can find them.
    assert.is(await damaged.stop('SIGTERM'), 0);
    const db = new Database(join(damaged.dataDir, 'shmem.db'));
    db.prepare('DELETE FROM registers WHERE addr < 10').run();
    db.close();
    damaged.start();
    await damaged.waitFor();
    await new Promise((r) => setTimeout(r, 1_000)); // catch-up runs meanwhile, and must not see them
    assert.is((await allTags(damaged)).size, 40, 'background catch-up does not bring back rows its positions say it has');

    const r = await runCli(['repair', '--endpoints', a.url]);
    assert.is(r.code, 0, r.stderr);
    for (const n of [a, b]) assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${n.port}: 0 registers fixed`));
    assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${damaged.port}: 10 registers fixed`), r.stdout);
    assert.match(r.stdout, /from 127\.0\.0\.1:\d+: 50 registers compared/);
    const [ta, tf] = await Promise.all([a, damaged].map(allTags)) as [Map<number, string>, Map<number, string>];
    assert.equal([...tf].sort(), [...ta].sort(), 'the repaired replica holds every register again');

    const json = JSON.parse((await runCli(['repair', '--json', '--endpoints', b.url])).stdout);
    assert.is(json.members.length, 3);
    for (const m of json.members) for (const p of m.peers) assert.equal([p.compared, p.fixed], [50, 0], 'a second repair finds nothing');
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-6000)}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test.run();
