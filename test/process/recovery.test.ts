import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, http, readVia, writeVia } from '../helpers/cluster.js';

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

test.run();
