import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, freePorts, runCli, tempDir } from '../helpers/cluster.js';

const test = suite('cli (real processes)');
let cluster: Cluster;
let deadEndpoint: string;

test.before(async () => {
  cluster = await Cluster.start(3, ['--value-bytes-max', '1000']);
  const [port] = await freePorts(1);
  deadEndpoint = `http://127.0.0.1:${port}`;
});
test.after(async () => {
  await cluster?.destroy();
});

test('shmem write then shmem read through another node', async () => {
  const w = await runCli(['write', '3', 'foo bar', '--endpoints', cluster.node(0).url]);
  assert.is(w.code, 0, w.stderr);
  assert.match(w.stdout, /^ok: wrote address 3 \(tag 1@/);
  const r = await runCli(['read', '3', '--endpoints', cluster.node(2).url]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'foo bar\n');
});

test('--json output parses and carries value and tag', async () => {
  const w = await runCli(['write', '4', 'x', '--json', '--endpoints', cluster.node(1).url]);
  assert.is(w.code, 0, w.stderr);
  const wj = JSON.parse(w.stdout);
  const r = await runCli(['read', '4', '--json', '--endpoints', cluster.node(0).url]);
  const rj = JSON.parse(r.stdout);
  assert.equal({ addr: rj.addr, value: rj.value, tag: rj.tag }, { addr: 4, value: 'x', tag: wj.tag });
});

test('a never-written address prints nothing on stdout and exits 0', async () => {
  const r = await runCli(['read', '12345', '--endpoints', cluster.node(0).url]);
  assert.is(r.code, 0);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /never been written/);
});

test('fails over to the next endpoint when the first does not answer; SHMEM_ENDPOINTS works', async () => {
  const r = await runCli(['write', '5', 'failover'], { SHMEM_ENDPOINTS: `${deadEndpoint},${cluster.node(1).url}` });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`via ${cluster.node(1).url}`));
});

test('no reachable endpoint: exit 1 with a message a person understands', async () => {
  const r = await runCli(['read', '5', '--endpoints', deadEndpoint]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no endpoint answered/);
  assert.match(r.stderr, /connection refused/);
  assert.not.match(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  const j = await runCli(['read', '5', '--json', '--endpoints', deadEndpoint]);
  assert.is(j.code, 1);
  assert.is(JSON.parse(j.stdout).error.code, 'no_endpoint');
});

test('usage errors exit 2: bad address, missing argument, unknown flag, bad endpoint', async () => {
  for (const args of [['read', '-1'], ['read', '1.5'], ['write', 'abc', 'v'], ['read'], ['read', '1', '--bogus'], ['read', '1', '--endpoints', 'ftp://x']]) {
    const r = await runCli(args.includes('--endpoints') ? args : [...args, '--endpoints', cluster.node(0).url]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0, 'says what is wrong');
    assert.not.match(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
});

test('a value over the node limit is refused by the node: exit 1 and nothing stored', async () => {
  const r = await runCli(['write', '6', 'x'.repeat(1001), '--endpoints', cluster.node(0).url]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /limit/);
  const after = await runCli(['read', '6', '--json', '--endpoints', cluster.node(0).url]);
  assert.is(JSON.parse(after.stdout).value, null);
});

test('status shows every member and exits 0 with a quorum', async () => {
  const r = await runCli(['status', '--endpoints', cluster.node(0).url]);
  assert.is(r.code, 0, r.stderr);
  for (const n of cluster.nodes) assert.match(r.stdout, `127.0.0.1:${n.port}`);
  assert.match(r.stdout, 'quorum ok: 3/3 serving');
  const j = JSON.parse((await runCli(['status', '--json', '--endpoints', cluster.node(0).url])).stdout);
  assert.is(j.cluster.hasQuorum, true);
  assert.is(j.peers.length, 2);
});

test('start with invalid settings exits 2 naming the setting', async () => {
  const r = await runCli(['start', '--port', 'abc', '--data-dir', tempDir()]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--port: "abc" must be an integer/);
  const env = await runCli(['start', '--data-dir', tempDir()], { SHMEM_PEERS: 'not-a-peer' });
  assert.is(env.code, 2);
  assert.match(env.stderr, /SHMEM_PEERS: "not-a-peer" is not host:port/);
});

test('--help lists every command; --version prints the version', async () => {
  const h = await runCli(['--help']);
  for (const c of ['start', 'read', 'write', 'status']) assert.match(h.stdout, new RegExp(`\\n\\s+${c}\\s`));
  const v = await runCli(['--version']);
  assert.match(v.stdout, /^shmem\/0\.1\.0 /);
});

test.run();
