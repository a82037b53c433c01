import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, freePorts, runCli, runCliIntoClosedPipe, runCliWithInput, tempDir } from '../helpers/cluster.js';

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

test('write - reads standard input to its end, however slowly it arrives; --file reads a file; both stored byte for byte', async () => {
  const slow = await runCliWithInput(['write', '33', '-', '--endpoints', cluster.node(0).url], ['first\n', 'second\n'], 300);
  assert.is(slow.code, 0, slow.stderr);
  assert.is(JSON.parse((await runCli(['read', '33', '--json', '--endpoints', cluster.node(1).url])).stdout).value, 'first\nsecond\n', 'not a prefix');
  const dir = tempDir();
  const file = join(dir, 'value.txt');
  writeFileSync(file, 'é'.repeat(300));
  const f = await runCli(['write', '34', '--file', file, '--endpoints', cluster.node(0).url]);
  assert.is(f.code, 0, f.stderr);
  const out = join(dir, 'out.txt');
  const r = await runCli(['read', '34', '--output', out, '--endpoints', cluster.node(2).url]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(out, 'utf8'), 'é'.repeat(300), '--output holds the value exactly, no newline');
  assert.is(statSync(out).mode & 0o777, 0o600);
});

test('ambiguous or broken values are refused before anything is sent (exit 2)', async () => {
  const file = join(tempDir(), 'v');
  writeFileSync(file, 'x');
  const cases: [string[], RegExp][] = [
    [['write', '35'], /no value: give VALUE, - to read standard input/],
    [['write', '35', 'x', '--file', file], /not two of them/],
    [['write', '35', '--file', '/nonexistent/v'], /--file \/nonexistent\/v: cannot read it \(ENOENT\)/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...args, '--endpoints', cluster.node(0).url]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  const bad = await runCliWithInput(['write', '35', '-', '--endpoints', cluster.node(0).url], [Buffer.from([0x61, 0xff])], 0);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /standard input is not valid UTF-8/);
  assert.is(JSON.parse((await runCli(['read', '35', '--json', '--endpoints', cluster.node(0).url])).stdout).value, null, 'nothing stored');
});

test('a stopped first endpoint is passed over after the connect deadline (1 s), not the operation timeout (10 s)', async () => {
  const n = cluster.node(0);
  n.signal('SIGSTOP');
  try {
    const started = Date.now();
    const r = await runCli(['read', '3', '--endpoints', `${n.url},${cluster.node(1).url}`]);
    const ms = Date.now() - started;
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'foo bar\n');
    assert.ok(ms < 4_000, `answered in ${ms} ms`);
  } finally {
    n.signal('SIGCONT');
  }
});

test('a write to a stopped first endpoint goes to the next one, and the stopped node never applies it once it resumes (the body waits for 100 Continue)', async () => {
  const n = cluster.node(0);
  n.signal('SIGSTOP');
  let resumed = false;
  try {
    const first = await runCli(['write', '41', 'first', '--endpoints', `${n.url},${cluster.node(1).url}`]);
    assert.is(first.code, 0, first.stderr);
    const second = await runCli(['write', '41', 'second', '--endpoints', cluster.node(1).url]);
    assert.is(second.code, 0, second.stderr);
    n.signal('SIGCONT');
    resumed = true;
    // Had the stopped node read the first request's body, it would run that write now, with a
    // tag above "second", and every read would then say "first".
    await new Promise((r) => setTimeout(r, 1_500));
    for (const node of cluster.nodes) {
      const r = await runCli(['read', '41', '--endpoints', node.url]);
      assert.is(r.stdout, 'second\n', `read through ${node.url}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    if (!resumed) n.signal('SIGCONT');
  }
});

test('help: shmem help and shmem help CMD; a mistyped command gets the nearest ones; --json covers parse errors', async () => {
  const h = await runCli(['help']);
  assert.is(h.code, 0, h.stderr);
  assert.match(h.stdout, /\n\s+write\s/);
  const hw = await runCli(['help', 'write']);
  assert.match(hw.stdout, /--file/);
  const typo = await runCli(['reed', '3']);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /"reed" is not a shmem command; did you mean "read"\?/);
  assert.match((await runCli(['get', '3'])).stderr, /did you mean "read"/);
  const missing = await runCli(['read', '--json']);
  assert.is(missing.code, 2);
  assert.is(JSON.parse(missing.stdout).error.code, 'usage');
  assert.match(JSON.parse(missing.stdout).error.message, /Missing 1 required arg/);
});

test('top --json prints one snapshot of the dashboard\'s data, no terminal needed', async () => {
  const r = await runCli(['top', '--json', '--endpoints', cluster.node(0).url]);
  assert.is(r.code, 0, r.stderr);
  const snap = JSON.parse(r.stdout);
  assert.is(snap.members.length, 3);
  assert.match(snap.verdict, /^quorum ok/);
  assert.ok(snap.tagRows.some((row: { addr: number }) => row.addr === 3));
});

test('--help lists every command; --version prints the version', async () => {
  const h = await runCli(['--help']);
  for (const c of ['start', 'read', 'write', 'status']) assert.match(h.stdout, new RegExp(`\\n\\s+${c}\\s`));
  const v = await runCli(['--version']);
  assert.match(v.stdout, /^shmem\/0\.1\.0 /);
});

test('output into a pipe closed early (| head): exit 141 like any Unix tool, no stack trace, no hang', async () => {
  const w = await runCli(['write', '6', 'piped', '--endpoints', cluster.node(0).url]);
  assert.is(w.code, 0, w.stderr);
  for (const args of [['read', '6'], ['read', '6', '--json'], ['status'], ['--help'], ['read', '--help']]) {
    const r = await runCliIntoClosedPipe([...args, ...(args.includes('--help') ? [] : ['--endpoints', cluster.node(1).url])]);
    assert.is(r.code, 141, `shmem ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.not.match(r.stderr, /EPIPE|Error|unsettled|\n\s+at /, `shmem ${args.join(' ')} printed on stderr`);
  }
});

test.run();
