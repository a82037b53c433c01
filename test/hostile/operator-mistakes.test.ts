import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePorts, http, NodeProcess, runCli, tempDir, writeVia } from '../helpers/cluster.js';

/**
 * Operator mistakes that once let one process count as two members (issue 12): a node
 * listed as its own peer under another spelling acknowledged writes alone.
 */
const test = suite('operator mistakes (real processes)');

test('a peer list naming this node under another spelling is refused at start', async () => {
  const [p, q] = await freePorts(2);
  const dir = tempDir();
  const r = await runCli(['start', '--port', String(p), '--data-dir', join(dir, 'a'), '--peers', `localhost:${p},127.0.0.1:${q}`]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, `localhost:${p} is this node itself`);
});

test('an alias the start cannot see (127.1:P reaches 127.0.0.1:P) is refused by node id and member name at run time; no write is acknowledged by one process', async () => {
  const [p, q] = await freePorts(2);
  const dir = tempDir();
  // Both members agree on the (wrong) member set {A, 127.1:A, B}; A is two of its three members.
  const a = new NodeProcess(p!, [], join(dir, 'a'), ['--peers', `127.1:${p},127.0.0.1:${q}`, '--op-deadline-ms', '1000']);
  const b = new NodeProcess(q!, [], join(dir, 'b'), ['--peers', `127.0.0.1:${p},127.1:${p}`, '--op-deadline-ms', '1000']);
  // No ports for NodeProcess to list: these nodes carry their own --peers.
  a.start();
  b.start();
  try {
    await a.waitFor('/livez');
    await b.waitFor('/livez');
    const deadline = Date.now() + 10_000;
    let aStatus: any;
    let bStatus: any;
    for (;;) {
      aStatus = (await http(`${a.url}/status`)).body;
      bStatus = (await http(`${b.url}/status`)).body;
      const aliasSeenByA = aStatus.peers.find((x: { member: string }) => x.member === `127.1:${p}`);
      const aliasSeenByB = bStatus.peers.find((x: { member: string }) => x.member === `127.1:${p}`);
      if (aliasSeenByA?.state === 'mismatch' && aliasSeenByB?.state === 'mismatch') break;
      if (Date.now() > deadline) assert.unreachable(`the alias was never refused:\n${JSON.stringify(aStatus.peers)}\n${JSON.stringify(bStatus.peers)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(aStatus.peers.find((x: { member: string }) => x.member === `127.1:${p}`).error, /listed as its own peer/);
    assert.match(bStatus.peers.find((x: { member: string }) => x.member === `127.1:${p}`).error, /addressed this node as member 127\.1:/);
    // Nothing is acknowledged while both run (only two processes behind three names) ...
    for (const n of [a, b]) {
      const w = await writeVia(n, 1, 'counted-twice');
      assert.is.not(w.status, 200, w.text);
    }
    // ... and, the case, not by A alone once B is gone.
    await b.stop('SIGKILL');
    const alone = await writeVia(a, 1, 'alone');
    assert.is.not(alone.status, 200, alone.text);
    assert.is((await http(`${a.url}/readyz`)).status, 503);
    assert.match(a.log, /this node is listed as its own peer/);
    assert.ok(a.log.split('\n').filter((l) => l.includes('this node is listed as its own peer')).length <= 3, 'logged once per interval, not per request');
  } finally {
    await a.stop('SIGKILL');
    await b.stop('SIGKILL');
  }
});

test.run();
