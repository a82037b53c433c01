import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, http, readVia, runCli, writeVia } from '../helpers/cluster.js';

const test = suite('wiped data dir recovery (real processes)');

test('a node restarted on a wiped data dir recovers before it counts, so no acknowledged write is lost', async () => {
  const c = await Cluster.start(3);
  const [a, b, wiped] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
  try {
    // The write is acknowledged by a and the soon-wiped node only: b is frozen.
    b.signal('SIGSTOP');
    const w = await writeVia(a, 1, 'only-on-a-and-wiped');
    assert.is(w.status, 200, w.text);
    b.signal('SIGCONT');

    // Wipe: kill -9, remove the data dir, start again. b is frozen again, so recovery
    // (which needs both other members for 3 nodes) cannot finish yet.
    await wiped.stop('SIGKILL');
    rmSync(wiped.dataDir, { recursive: true, force: true });
    b.signal('SIGSTOP');
    wiped.start();
    await wiped.waitFor('/livez');
    const status = await http(`${wiped.url}/status`);
    assert.is(status.body.node.recovering, true, 'status shows the node recovering');
    const ready = await http(`${wiped.url}/readyz`);
    assert.is(ready.status, 503);
    assert.match(ready.text, '[-]replica recovering');
    const peerStatus = await http(`${a.url}/status`);
    await new Promise((r) => setTimeout(r, 300)); // one heartbeat
    const seenByA = (await http(`${a.url}/status`)).body.peers.find((p: { member: string }) => p.member.endsWith(`:${wiped.port}`));
    assert.ok(peerStatus.status === 200 && seenByA.recovering === true, 'peers see it recovering');

    b.signal('SIGCONT');
    await wiped.waitFor('/readyz');
    assert.match(wiped.log, /copying the other members' registers now: waited [0-9]+ s since start/, 'it waited out the fence before copying');
    assert.match(wiped.log, /recovery complete/);
    // Now lose a: the only quorum left is b + the recovered node, and it must still have the write.
    await a.stop('SIGKILL');
    const r = await readVia(b, 1);
    assert.is(r.status, 200, r.text);
    assert.is(r.body.value, 'only-on-a-and-wiped');
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-8000)}`;
    throw err;
  } finally {
    b.signal('SIGCONT');
    await c.destroy();
  }
});

test('two of three data dirs wiped before either recovers: the cluster refuses and says why, never answers "never written"; an operator\'s accept-data-loss brings it back', async () => {
  const c = await Cluster.start(3, ['--op-deadline-ms', '2000']);
  const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
  try {
    for (let addr = 0; addr < 5; addr++) assert.is((await writeVia(a, addr, `v${addr}`)).status, 200);
    await new Promise((r) => setTimeout(r, 300)); // every member has every write
    // b and d lose their data dirs, one after the other, each before the other could recover.
    const logFrom = new Map([b, d].map((n) => [n, n.log.length]));
    for (const n of [b, d]) {
      await n.stop('SIGKILL');
      rmSync(n.dataDir, { recursive: true, force: true });
      n.start();
      await n.waitFor('/livez');
    }
    // Past the fence (one operation deadline): both are stuck, and say so.
    const deadline = Date.now() + 20_000;
    let why = '';
    while (Date.now() < deadline) {
      why = (await http(`${b.url}/readyz`)).text;
      if (why.includes('members is gone')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(why, /\[-\]replica recovering: the data of 2 of 3 members is gone/);
    assert.match(why, /restore a backup \(shmem restore\).*shmem recover --accept-data-loss/);
    const status = await runCli(['status', '--endpoints', b.url]);
    assert.is(status.code, 1);
    assert.match(status.stdout, /RECOVERY STUCK: the data of 2 of 3 members is gone/);
    assert.match(b.log, /"level":"error","msg":"the data of 2 of 3 members is gone/);
    assert.not.match([b, d].map((n) => n.log.slice(logFrom.get(n))).join(''), /"msg":"new cluster/, 'never a new cluster (after the wipes)');
    // Reads through every member fail: never "null" (never written), never an old value.
    for (const n of [a, b, d]) {
      const r = await readVia(n, 3);
      assert.is(r.status, 503, `through ${n.port}: ${r.text}`);
      assert.is(r.body.error.code, 'quorum_unavailable');
    }
    const report = await runCli(['recover', '--endpoints', a.url]);
    assert.is(report.code, 1, report.stdout);
    assert.match(report.stdout, new RegExp(`127\\.0\\.0\\.1:${b.port}: STUCK`));
    assert.match(report.stdout, new RegExp(`127\\.0\\.0\\.1:${a.port}: serving as a replica`));
    // The operator accepts the loss: the first stuck member copies a (which has everything), the other then recovers by itself.
    const accepted = await runCli(['recover', '--accept-data-loss', '--endpoints', [a, b, d].map((n) => n.url).join(',')]);
    assert.is(accepted.code, 0, `${accepted.stdout}${accepted.stderr}`);
    assert.match(accepted.stdout, new RegExp(`127\\.0\\.0\\.1:${b.port}: finished its recovery with the loss accepted`));
    assert.match(b.log, /"level":"error","msg":"an operator accepted the loss.*"by":"anonymous from 127\.0\.0\.1/);
    await c.waitReady();
    for (let addr = 0; addr < 5; addr++) assert.is((await readVia(d, addr)).body.value, `v${addr}`, 'a held every write: nothing was lost after all');
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-12000)}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test.run();
