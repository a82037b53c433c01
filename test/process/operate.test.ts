import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, freePorts, http, NodeProcess, readVia, runCli, SHMEM_BIN, tempDir, writeVia } from '../helpers/cluster.js';

const test = suite('operating a cluster (real processes)');

test('/metrics serves Prometheus text with operations, latencies, peers and commits', () => Cluster.start(3).then(async (c) => {
  try {
    for (let i = 0; i < 5; i++) assert.is((await writeVia(c.node(0), i, `v${i}`)).status, 200);
    assert.is((await readVia(c.node(0), 1)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    const m = await http(`${c.node(0).url}/metrics`);
    assert.is(m.status, 200);
    assert.match(m.text, /shmem_operations_total\{op="write",outcome="ok"\} 5/);
    assert.match(m.text, /shmem_operations_total\{op="read",outcome="ok"\} 1/);
    assert.match(m.text, /shmem_operation_duration_seconds_bucket\{le="[\d.]+",op="write"\}/);
    assert.match(m.text, /shmem_read_fast_path_total 1/);
    assert.match(m.text, new RegExp(`shmem_peer_up\\{peer="127.0.0.1:${c.node(1).port}"\\} 1`));
    assert.match(m.text, /shmem_peer_rtt_seconds\{peer=/);
    assert.match(m.text, /shmem_sqlite_commit_duration_seconds_count [1-9]/);
    assert.match(m.text, /shmem_group_commit_batch_items_sum [1-9]/);
    assert.match(m.text, /shmem_quorum_failures_total 0/);
    // Memory: V8's heap as the OS sees it, and the young-generation bound the launcher starts
    // every node with (docs/performance.md, Memory), in the first log line an operator reads.
    assert.match(m.text, /shmem_nodejs_heap_physical_bytes [1-9]/);
    const start = JSON.parse(c.node(0).log.split('\n').find((l) => l.includes('"starting shmem"'))!);
    assert.ok(start.runtime.v8Flags.includes('--max-semi-space-size=16'), `v8 flags at start: ${JSON.stringify(start.runtime)}`);
    assert.match(start.runtime.node, /^v24\./);
    // Where the time went: 5 writes in two phases each, the fast-path read in its query alone.
    assert.match(m.text, /shmem_operation_phase_duration_seconds_count\{op="write",phase="query"\} 5/);
    assert.match(m.text, /shmem_operation_phase_duration_seconds_count\{op="write",phase="update"\} 5/);
    assert.match(m.text, /shmem_operation_phase_duration_seconds_count\{op="read",phase="query"\} 1/);
    assert.not.match(m.text, /shmem_operation_phase_duration_seconds_count\{op="read",phase="update"\}/);
    assert.match(m.text, /shmem_sqlite_commit_wait_seconds_count [1-9]/);
    // A quorum failure is counted.
    await c.node(1).stop('SIGKILL');
    await c.node(2).stop('SIGKILL');
    assert.is((await readVia(c.node(0), 1)).status, 503);
    const after = await http(`${c.node(0).url}/metrics`);
    assert.match(after.text, /shmem_quorum_failures_total 1/);
    assert.match(after.text, new RegExp(`shmem_peer_up\\{peer="127.0.0.1:${c.node(1).port}"\\} 0`));
  } finally {
    await c.destroy();
  }
}, ) );

test('status: a table for people, JSON for scripts, exit 0 only with a quorum', () => Cluster.start(3).then(async (c) => {
  try {
    assert.is((await writeVia(c.node(0), 7, 'x')).status, 200);
    const t = await runCli(['status', '--endpoints', c.node(0).url]);
    assert.is(t.code, 0, t.stderr);
    assert.match(t.stdout, /highest tag 1@/);
    assert.match(t.stdout, /SERVES/);
    assert.match(t.stdout, /1 address, /);
    assert.match(t.stdout, 'quorum ok: 3/3 serving');
    await c.node(2).stop('SIGKILL');
    // Nothing listens at its address any more: down at the next heartbeat (100 ms here), not
    // after the 1.5 s of silence that makes a paused or cut-off peer suspect.
    await new Promise((r) => setTimeout(r, 700));
    const degraded = await runCli(['status', '--json', '--endpoints', c.node(0).url]);
    assert.is(degraded.code, 0);
    const j = JSON.parse(degraded.stdout);
    const gone = `127.0.0.1:${c.node(2).port}`;
    assert.match(j.cluster.verdict, new RegExp(`^degraded: 2/3 serving \\(${gone} down\\); a quorum needs 2$`));
    assert.is(j.cluster.verdictCode, 'degraded');
    const row = j.peers.find((p: { member: string }) => p.member === gone);
    assert.is(row.state, 'down');
    assert.match(row.error ?? '', 'ECONNREFUSED', 'the status says why');
    assert.is(row.rttMs, null, 'no round-trip time for a peer that is not up');
    const table = await runCli(['status', '--endpoints', c.node(0).url]);
    assert.match(table.stdout, new RegExp(`${gone.replace(/\./g, '\\.')}\\s+(suspect|down)\\s+no: (suspect|down)\\s+\\S+\\s+\\S+ ago\\s+-`));
    await c.node(1).stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1700));
    const none = await runCli(['status', '--endpoints', c.node(0).url]);
    assert.is(none.code, 1, 'no quorum: non-zero exit for monitoring');
    assert.match(none.stdout, /no quorum: 1\/3 serving \(.* (suspect|down), .* (suspect|down)\); a quorum needs 2/);
    const w = await runCli(['write', '7', 'y', '--endpoints', c.node(0).url, '--json']);
    assert.is(w.code, 1);
    assert.match(JSON.parse(w.stdout).error.hint, /only 1 of 3 members can answer as replicas \(.* is (suspect|down), .* is (suspect|down)\); a quorum needs 2/);
  } finally {
    await c.destroy();
  }
}));

test('a new cluster with two of three members started: status says no quorum, who is recovering and who is starting, exit 1', async () => {
  const ports = await freePorts(3);
  const dir = tempDir();
  const nodes = ports.map((p, i) => new NodeProcess(p, ports.filter((q) => q !== p), join(dir, `n${i}`)));
  try {
    nodes[0]!.start();
    nodes[1]!.start();
    await nodes[0]!.waitFor('/livez');
    await nodes[1]!.waitFor('/livez');
    await new Promise((r) => setTimeout(r, 1700)); // the third is never heard from: starting, not down (issue 30)
    const r = await runCli(['status', '--endpoints', nodes[0]!.url]);
    assert.is(r.code, 1, 'no quorum: exit 1 (it said "degraded: 2/3 up" and 0 before)');
    const [a, b, c] = ports.map((p) => `127.0.0.1:${p}`);
    assert.match(r.stdout, new RegExp(`no quorum: 0/3 serving \\(${a} recovering, ${b} recovering, ${c} starting\\); a quorum needs 2`));
    const w = await runCli(['write', '1', 'x', '--endpoints', nodes[0]!.url, '--timeout-ms', '8000']);
    assert.is(w.code, 1);
    assert.match(w.stderr, /Hint: only 0 of 3 members can answer as replicas \(.* is recovering, .* is recovering, .* is starting\)/);
    assert.match(nodes[0]!.log, /"msg":"empty data dir: copying the registers of 2 other members/);
    assert.not.match(nodes[0]!.log, /"level":"warn","msg":"new or wiped/);
    nodes[2]!.start();
    await Promise.all(nodes.map((n) => n.waitFor('/readyz', 15_000)));
    assert.match(nodes[0]!.log, /new cluster: every other member is empty/);
  } catch (err) {
    (err as Error).message += `\n${nodes.map((n) => n.log).join('\n').slice(-6000)}`;
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  }
});

test('members started one by one: once reads succeed through each, status says quorum ok through each (never "no quorum" on a heartbeat older than the start)', async () => {
  const ports = await freePorts(3);
  const dir = tempDir();
  // Heartbeats every 3 s: what the last one said is old news by the time the cluster serves.
  const nodes = ports.map((p, i) => new NodeProcess(p, ports.filter((q) => q !== p), join(dir, `n${i}`), ['--heartbeat-ms', '3000']));
  try {
    for (const n of nodes) {
      n.start();
      await n.waitFor('/livez');
      await new Promise((r) => setTimeout(r, 300));
    }
    for (const n of nodes) {
      const deadline = Date.now() + 15_000;
      while ((await readVia(n, 0).catch(() => ({ status: 0 }))).status !== 200) {
        assert.ok(Date.now() < deadline, `reads through ${n.port} never succeeded`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    for (const n of nodes) {
      const s = await runCli(['status', '--json', '--endpoints', n.url]);
      const verdict = JSON.parse(s.stdout).cluster;
      assert.is(s.code, 0, `through ${n.port}: ${verdict.verdict}`);
      assert.not.equal(verdict.verdictCode, 'no_quorum', `through ${n.port}: ${verdict.verdict}`);
      // A replica may still be recovering (a new cluster's first member retries its probe with
      // backoff, and coordinates reads meanwhile): that is true, and its peers learn it from its
      // answers. Never counted out on a heartbeat older than its start: not down, suspect or unknown.
      const peersOut = verdict.unavailable.filter((u: { member: string; condition: string }) => u.member !== `127.0.0.1:${n.port}` && u.condition !== 'recovering');
      assert.equal(peersOut, [], `through ${n.port}: ${verdict.verdict}`);
      const ready = await http(`${n.url}/readyz`);
      assert.match(ready.text, /\[\+\]quorum ok|\[\+\]quorum/, ready.text);
    }
  } catch (err) {
    (err as Error).message += `\n${nodes.map((n) => n.log).join('\n').slice(-6000)}`;
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the log says once when a peer goes down and comes back, and when the quorum is lost and regained, with how long it lasted', () => Cluster.start(3).then(async (c) => {
  try {
    const [a, b, d] = c.nodes as [NodeProcess, NodeProcess, NodeProcess];
    b.signal('SIGSTOP'); // paused: its address still takes connections, it just says nothing
    await new Promise((r) => setTimeout(r, 5_600)); // suspect after 1.5 s of silence, down after 5 s
    await d.stop('SIGKILL'); // gone: nothing listens there, down at the next heartbeat
    await new Promise((r) => setTimeout(r, 1_800));
    b.signal('SIGCONT');
    d.start();
    await c.waitReady();
    await new Promise((r) => setTimeout(r, 600));
    const lines = a.log.split('\n').filter((l) => /"level":"warn"/.test(l));
    const about = (peer: NodeProcess) => lines.filter((l) => l.includes(`"peer":"127.0.0.1:${peer.port}"`));
    assert.ok(about(b).some((l) => /"msg":"peer suspect"/.test(l)), lines.join('\n'));
    assert.ok(about(b).some((l) => /"msg":"peer down".*"forMs":\d+/.test(l)), lines.join('\n'));
    assert.ok(about(b).some((l) => /"msg":"peer up again after \d+\.\d s down"/.test(l)), lines.join('\n'));
    assert.ok(about(d).some((l) => /"msg":"peer down".*"from":"up".*ECONNREFUSED/.test(l)), `the killed one goes from up to down, saying why\n${lines.join('\n')}`);
    assert.not.ok(about(d).some((l) => /"msg":"peer suspect"/.test(l)), lines.join('\n'));
    assert.ok(about(d).some((l) => /"msg":"peer up again after \d+\.\d s down"/.test(l)), lines.join('\n'));
    assert.is(lines.filter((l) => /"msg":"quorum lost/.test(l)).length, 1, lines.join('\n'));
    assert.is(lines.filter((l) => /"msg":"quorum regained after \d+\.\d s without"/.test(l)).length, 1, lines.join('\n'));
    assert.ok(about(b).length <= 4, `a handful of lines, not one per heartbeat (${about(b).length})`);
  } finally {
    for (const n of c.nodes) n.signal('SIGCONT');
    await c.destroy();
  }
}));

test('GET /tags pages through a replica\'s tags; bad paging is refused', () => Cluster.start(3).then(async (c) => {
  try {
    for (const a of [3, 1, 2]) assert.is((await writeVia(c.node(0), a, 'v')).status, 200);
    const p1 = await http(`${c.node(0).url}/tags?limit=2`);
    assert.equal(p1.body.items.map((i: { addr: number }) => i.addr), [1, 2]);
    assert.is(p1.body.next, 2);
    const p2 = await http(`${c.node(0).url}/tags?after=2&limit=2`);
    assert.equal(p2.body.items.map((i: { addr: number }) => i.addr), [3]);
    assert.is(p2.body.next, null);
    assert.is((await http(`${c.node(0).url}/tags?limit=0`)).body.error.code, 'bad_request');
    assert.is((await http(`${c.node(0).url}/tags?after=-1`)).body.error.code, 'invalid_addr');
  } finally {
    await c.destroy();
  }
}));

test('backup while writing, then restore a lost node from it: it catches up and loses nothing', () => Cluster.start(3).then(async (c) => {
  const dir = tempDir('shmem-backup-');
  try {
    for (let i = 0; i < 20; i++) assert.is((await writeVia(c.node(i % 3), i, `before-${i}`)).status, 200);
    // Back up node 2 while writes keep arriving.
    const writing = Promise.all(Array.from({ length: 30 }, (_, i) => writeVia(c.node(0), 100 + i, `during-${i}`)));
    const file = join(dir, 'node2.db');
    const b = await runCli(['backup', file, '--data-dir', c.node(2).dataDir, '--json']);
    assert.is(b.code, 0, b.stderr);
    assert.ok(JSON.parse(b.stdout).addresses >= 20);
    for (const w of await writing) assert.is(w.status, 200);
    assert.is((await writeVia(c.node(0), 5, 'after-backup')).status, 200);

    // Node 2's disk is lost; restore it from the backup and start it.
    await c.node(2).stop('SIGKILL');
    rmSync(c.node(2).dataDir, { recursive: true, force: true });
    const r = await runCli(['restore', file, '--data-dir', c.node(2).dataDir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored \d+ addresses/);
    const again = await runCli(['restore', file, '--data-dir', c.node(2).dataDir]);
    assert.is(again.code, 2, 'refuses to overwrite a data dir');
    c.node(2).start();
    await c.node(2).waitFor();
    assert.match(c.node(2).log, /recovery complete/);
    const status = await http(`${c.node(2).url}/status`);
    assert.is(status.body.node.incarnation, 1, 'a restored node gets a new identity');

    // With node 0 gone, the restored node and node 1 must still hold everything.
    await c.node(0).stop('SIGKILL');
    assert.is((await readVia(c.node(1), 5)).body.value, 'after-backup');
    assert.is((await readVia(c.node(2), 129)).body.value, 'during-29');
    assert.is((await readVia(c.node(2), 19)).body.value, 'before-19');
  } catch (err) {
    (err as Error).message += `\n${c.logs().slice(-6000)}`;
    throw err;
  } finally {
    await c.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}));

test('backup and restore refuse bad input with clear messages', async () => {
  const dir = tempDir('shmem-backup-');
  const none = await runCli(['backup', join(dir, 'x.db'), '--data-dir', join(dir, 'nothing')]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /no shmem database/);
  const missing = await runCli(['restore', join(dir, 'missing.db'), '--data-dir', join(dir, 'new')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
  const noDir = await runCli(['backup', join(dir, 'x.db')], { SHMEM_DATA_DIR: '' });
  assert.is(noDir.code, 2);
  rmSync(dir, { recursive: true, force: true });
});

test('service unit: the printed unit passes systemd-analyze verify and carries the settings', async () => {
  const dir = tempDir('shmem-unit-');
  const u = await runCli(['service', 'unit', '--binary', SHMEM_BIN, '--port', '3031', '--peers', '127.0.0.1:3030,127.0.0.1:3032', '--data-dir', '/var/lib/shmem',
    '--value-bytes-max', '2000000', '--op-deadline-ms', '3000', '--peer-deadline-ms', '800', '--heartbeat-ms', '250', '--durability', 'normal',
    '--connections-max', '4000', '--connections-per-source-max', '100', '--log-level', 'warn',
    '--config', '/etc/shmem/shmem.json', '--environment-file', '/etc/shmem/env']);
  assert.is(u.code, 0, u.stderr);
  for (const line of ['Type=notify', 'Restart=on-failure', 'DynamicUser=yes', 'StateDirectory=shmem', 'KillSignal=SIGTERM', 'TimeoutStopSec=15s', 'ProtectSystem=strict']) {
    assert.ok(u.stdout.split('\n').includes(line), `unit has ${line}`);
  }
  // Every setting reaches the daemon (it once carried only some: no value size, deadlines, heartbeat or --config).
  assert.match(u.stdout, `ExecStart=${SHMEM_BIN} start --data-dir /var/lib/shmem --port 3031 --peers 127.0.0.1:3030,127.0.0.1:3032 --durability normal ` +
    '--value-bytes-max 2000000 --op-deadline-ms 3000 --peer-deadline-ms 800 --heartbeat-ms 250 --connections-max 4000 --connections-per-source-max 100 ' +
    '--log-level warn --config /etc/shmem/shmem.json');
  assert.ok(u.stdout.split('\n').includes('EnvironmentFile=/etc/shmem/env'));
  const file = join(dir, 'shmem.service');
  writeFileSync(file, u.stdout);
  // Throws (and fails the test) with systemd's complaints when the unit is not valid.
  execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // With TLS, tokens and a cluster secret: secrets travel with LoadCredential=, never on the command line.
  const secure = await runCli(['service', 'unit', '--binary', SHMEM_BIN, '--host', '0.0.0.0', '--advertise', '10.0.0.1:3030',
    '--peers', '10.0.0.2:3030', '--tls-cert', '/etc/shmem/node.pem', '--tls-key', '/etc/shmem/node.key', '--tls-ca', '/etc/shmem/ca.pem',
    '--auth-file', '/etc/shmem/auth', '--cluster-secret-file', '/etc/shmem/cluster.secret']);
  assert.is(secure.code, 0, secure.stderr);
  const lines = secure.stdout.split('\n');
  for (const line of ['LoadCredential=tls-key:/etc/shmem/node.key', 'LoadCredential=cluster-secret:/etc/shmem/cluster.secret', 'ExecReload=/bin/sh -c "kill -HUP $MAINPID"']) {
    assert.ok(lines.includes(line), `unit has ${line}`);
  }
  assert.match(secure.stdout, '--tls-key %d/tls-key');
  assert.match(secure.stdout, '--cluster-secret-file %d/cluster-secret');
  assert.match(secure.stdout, '--tls-cert /etc/shmem/node.pem');
  writeFileSync(file, secure.stdout);
  execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const exposed = await runCli(['service', 'unit', '--host', '0.0.0.0', '--advertise', '10.0.0.1:3030']);
  assert.is(exposed.code, 2);
  assert.match(exposed.stderr, /--insecure/);
  const bad = await runCli(['service', 'unit', '--port', 'x']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--port: "x"/);
  rmSync(dir, { recursive: true, force: true });
});

test('under systemd (NOTIFY_SOCKET), the node reports READY=1 once it serves', async () => {
  const dir = tempDir('shmem-notify-');
  const socket = join(dir, 'notify.sock');
  // A stand-in for systemd's notification socket (Node has no unix datagram sockets). Like
  // systemd it closes the file descriptors a message carries: that is how systemd-notify's
  // barrier (it waits until the message was processed) learns that it was.
  const listener = spawn('python3', ['-c', `
import array, os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(${JSON.stringify(socket)})
print('listening', flush=True)
s.settimeout(20)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in array.array('i', data[:len(data) - len(data) % 4]):
                os.close(fd)
    print(msg.decode(), flush=True)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  listener.stdout.on('data', (d) => (got += d));
  const [port] = await freePorts(1);
  const node = new NodeProcess(port!, [], join(dir, 'data'));
  try {
    while (!got.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    process.env['NOTIFY_SOCKET'] = socket;
    node.start();
    delete process.env['NOTIFY_SOCKET'];
    await node.waitFor('/readyz');
    const deadline = Date.now() + 10_000;
    while (!got.includes('READY=1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(got, 'READY=1');
    assert.match(got, `MAINPID=${node.child!.pid}`);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(got, 'BARRIER=1', 'systemd-notify waited until the message was processed (no --no-block)');
    assert.not.match(node.log, /could not notify systemd/);
  } finally {
    delete process.env['NOTIFY_SOCKET'];
    listener.kill('SIGKILL');
    await node.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
