import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { http, readVia, runCli, runCliWithInput, withCluster, writeVia, type NodeProcess } from '../helpers/cluster.js';

/** Compare-and-set and add over HTTP on real processes (docs/rmw.md). */

const post = (n: NodeProcess, path: string, body: unknown) =>
  http(`${n.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const test = suite('compare-and-set and add (real processes)');

test('cas from never-written, then on the value and on the tag; a mismatch says what is there and changes nothing', () => withCluster(async (c) => {
  const first = await post(c.node(0), '/cas', { addr: 3, expect: null, value: 'a' });
  assert.is(first.status, 200, first.text);
  assert.is(first.body.ok, true);
  assert.equal(first.body.tag, { seq: 0, writer: '', rmwc: 1 }, 'an rmw on the initial value sorts right after it');
  const again = await post(c.node(1), '/cas', { addr: 3, expect: null, value: 'b' });
  assert.is(again.status, 409, again.text);
  assert.is(again.body.error.code, 'cas_mismatch');
  assert.equal(again.body.current, { value: 'a', tag: first.body.tag });
  const second = await post(c.node(2), '/cas', { addr: 3, expect: 'a', value: 'b' });
  assert.is(second.status, 200, second.text);
  const read = await readVia(c.node(0), 3);
  assert.equal(read.body, { addr: 3, value: 'b', tag: second.body.tag });
  const stale = await post(c.node(0), '/cas', { addr: 3, expectTag: first.body.tag, value: 'c' });
  assert.is(stale.status, 409, stale.text);
  assert.equal(stale.body.current, { value: 'b', tag: second.body.tag });
  const byTag = await post(c.node(0), '/cas', { addr: 3, expectTag: second.body.tag, value: 'c' });
  assert.is(byTag.status, 200, byTag.text);
  for (const n of c.nodes) assert.is((await readVia(n, 3)).body.value, 'c');
}));

test('add counts from never-written, mixes with plain writes, and refuses what is not an integer or would overflow', () => withCluster(async (c) => {
  for (let i = 1; i <= 3; i++) {
    const r = await post(c.node(i % 3), '/add', { addr: 7, delta: 5 });
    assert.is(r.status, 200, r.text);
    assert.is(r.body.value, String(5 * i));
  }
  const down = await post(c.node(0), '/add', { addr: 7, delta: -20 });
  assert.is(down.body.value, '-5');
  assert.is((await writeVia(c.node(1), 7, '100')).status, 200);
  const after = await post(c.node(2), '/add', { addr: 7, delta: 1 });
  assert.is(after.body.value, '101', 'an add after a plain write builds on it');
  assert.ok(after.body.tag.seq >= 1 && after.body.tag.rmwc === 1, JSON.stringify(after.body.tag));
  await writeVia(c.node(0), 8, 'twelve');
  const nan = await post(c.node(0), '/add', { addr: 8, delta: 1 });
  assert.is(nan.status, 409, nan.text);
  assert.is(nan.body.error.code, 'not_a_number');
  assert.is(nan.body.current.value, 'twelve');
  await writeVia(c.node(0), 9, String(Number.MAX_SAFE_INTEGER));
  const over = await post(c.node(1), '/add', { addr: 9, delta: 1 });
  assert.is(over.status, 409, over.text);
  assert.is(over.body.error.code, 'out_of_range');
  assert.is((await readVia(c.node(2), 9)).body.value, String(Number.MAX_SAFE_INTEGER), 'nothing changed');
}));

test('concurrent adds through every member lose no increment, and 16 compare-and-sets from null have exactly one winner', () => withCluster(async (c) => {
  const adds = await Promise.all(Array.from({ length: 60 }, (_, i) => post(c.node(i % 3), '/add', { addr: 1, delta: 1 })));
  const ok = adds.filter((r) => r.status === 200);
  const unknown = adds.filter((r) => r.status === 504);
  assert.is(ok.length + unknown.length, 60, adds.filter((r) => r.status !== 200 && r.status !== 504).map((r) => r.text).join('\n'));
  const values = ok.map((r) => Number(r.body.value));
  assert.is(new Set(values).size, values.length, 'no two adds returned the same count');
  const final = Number((await readVia(c.node(0), 1)).body.value);
  assert.ok(final >= ok.length && final <= 60, `final ${final}, acknowledged ${ok.length}, unknown ${unknown.length}`);
  const locks = await Promise.all(Array.from({ length: 16 }, (_, i) => post(c.node(i % 3), '/cas', { addr: 2, expect: null, value: `client-${i}` })));
  const winners = locks.filter((r) => r.status === 200);
  const losers = locks.filter((r) => r.status === 409);
  assert.is(winners.length, 1, locks.map((r) => `${r.status} ${r.text}`).join('\n'));
  const held = (await readVia(c.node(1), 2)).body.value as string;
  for (const l of losers) assert.is(l.body.current.value, held, 'every loser is told the winner');
}));

test('bad cas and add bodies are refused with the problem named, and nothing is changed', () => withCluster(async (c) => {
  await writeVia(c.node(0), 4, 'keep');
  const cases: [string, unknown, string][] = [
    ['/cas', { addr: 4, value: 'x' }, 'neither'],
    ['/cas', { addr: 4, expect: 'keep', expectTag: { seq: 1, writer: 'x' }, value: 'x' }, 'both'],
    ['/cas', { addr: 4, expect: 5, value: 'x' }, '"expect" must be a string or null'],
    ['/cas', { addr: 4, expectTag: { seq: -1, writer: '' }, value: 'x' }, '"expectTag" must be a tag'],
    ['/cas', { addr: 4, expectTag: { seq: 1, writer: 'aaaaaaaa.1', rmwc: 0 }, value: 'x' }, '"expectTag" must be a tag'],
    ['/cas', { addr: 4, expect: 'keep', value: null }, '"value" must be a string'],
    ['/cas', { addr: -4, expect: 'keep', value: 'x' }, '"addr"'],
    ['/add', { addr: 4 }, '"delta" must be an integer'],
    ['/add', { addr: 4, delta: 1.5 }, '"delta" must be an integer'],
    ['/add', { addr: 4, delta: 2 ** 53 }, '"delta" must be an integer'],
    ['/add', { addr: 4, delta: '1' }, '"delta" must be an integer'],
    ['/add', [4, 1], 'JSON object'],
  ];
  for (const [path, body, says] of cases) {
    const r = await post(c.node(1), path, body);
    assert.is(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`);
    assert.ok(r.body.error.message.includes(says), `${JSON.stringify(body)}: ${r.body.error.message}`);
  }
  const huge = await http(`${c.node(0).url}/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"addr":4,"delta":1,"pad":"${'x'.repeat(4096)}"}` });
  assert.is(huge.status, 413, huge.text);
  assert.is((await readVia(c.node(2), 4)).body.value, 'keep');
}));

test('shmem cas and shmem add: exit 0 on success, 1 with the current value printed on a refusal, --json too', () => withCluster(async (c) => {
  const env = { SHMEM_ENDPOINTS: c.nodes.map((n) => n.url).join(',') };
  const take = await runCli(['cas', '3', '--expect-absent', 'holder-a'], env);
  assert.is(take.code, 0, take.stderr);
  assert.match(take.stdout, /^ok: swapped address 3 \(tag 0@-\+1 via http/);
  const second = await runCli(['cas', '3', '--expect-absent', 'holder-b'], env);
  assert.is(second.code, 1, second.stderr);
  assert.is(second.stdout, 'holder-a\n', 'the current value, for a script to retry from');
  assert.match(second.stderr, /cas_mismatch: expected never written, but the address holds a value; address 3 holds the value printed above \(tag 0@-\+1\), nothing changed/);
  const json = await runCli(['cas', '3', 'nobody', 'x', '--json'], env);
  assert.is(json.code, 1);
  assert.equal(JSON.parse(json.stdout).current, { value: 'holder-a', tag: { seq: 0, writer: '', rmwc: 1 } });
  const byTag = await runCli(['cas', '3', '--expect-tag', '0@-+1', 'holder-c'], env);
  assert.is(byTag.code, 0, byTag.stderr);
  const fromStdin = await runCliWithInput(['cas', '3', 'holder-c', '-', '--endpoints', env.SHMEM_ENDPOINTS], ['line one\n', 'line two\n'], 20);
  assert.is(fromStdin.code, 0, fromStdin.stderr);
  assert.is((await readVia(c.node(2), 3)).body.value, 'line one\nline two\n', 'the value from standard input, byte for byte');
  for (const [args, out] of [[['add', '7'], '1\n'], [['add', '7', '5'], '6\n'], [['add', '7', '--', '-2'], '4\n']] as const) {
    const r = await runCli([...args], env);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, out, args.join(' '));
  }
  const addJson = await runCli(['add', '7', '--json'], env);
  assert.equal({ ...JSON.parse(addJson.stdout), endpoint: undefined }, { addr: 7, value: '5', tag: { seq: 0, writer: '', rmwc: 4 }, endpoint: undefined });
  await writeVia(c.node(0), 8, 'hello');
  const nan = await runCli(['add', '8'], env);
  assert.is(nan.code, 1);
  assert.is(nan.stdout, 'hello\n');
  assert.match(nan.stderr, /not_a_number/);
  for (const [args, says] of [
    [['cas', '3'], /no EXPECT value/], [['cas', '3', '--expect-absent', '--expect-tag', '1@-', 'x'], /not both/],
    [['cas', '3', '--expect-absent', 'a', 'b'], /ADDR and VALUE only/], [['cas', '3', '--expect-tag', 'garbage', 'x'], /not a tag as read prints it/],
    [['add', '3', '1.5'], /DELTA must be an integer/], [['add', '3', '99999999999999999'], /DELTA must be an integer/], [['cas', 'x', 'a', 'b'], /address/],
  ] as const) {
    const r = await runCli([...args], env);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, says, args.join(' '));
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
}));

test.run();
