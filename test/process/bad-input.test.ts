import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, http, readVia, writeVia } from '../helpers/cluster.js';

const test = suite('bad input (real processes)');
let cluster: Cluster;
let base: string;
let original: { value: string; tag: unknown };

test.before(async () => {
  cluster = await Cluster.start(3, ['--value-bytes-max', '1000']);
  base = cluster.node(0).url;
  const w = await writeVia(cluster.node(0), 3, 'keep');
  assert.is(w.status, 200);
  original = { value: 'keep', tag: w.body.tag };
});
test.after(async () => {
  await cluster?.destroy();
});

const post = (path: string, body: string, contentType = 'application/json') =>
  http(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

/** A well-formed peer update that must never be applied when it follows a bad line: tag far ahead, value "evil". */
const evilUpdate = '{"id":7,"op":"update","items":[{"addr":3,"tag":{"seq":99,"writer":"eeeeeeee.1"},"value":"evil"}]}';
/** An update line of address 3 with this tag and value. */
const forged = (tag: unknown, value: unknown): string => JSON.stringify({ id: 1, op: 'update', items: [{ addr: 3, tag, value }] });

/** A well-formed ballot, and an rmw request line of the peer stream with one message. */
const BALLOT = { round: 1, node: 'eeeeeeee.1' };
const rmwLine = (message: unknown): string => JSON.stringify({ id: 1, op: 'rmw', messages: [message] });

/** Sends `body` on /peer/stream with this cluster's identity, as a member would. */
async function peerStream(body: string, contentType = 'application/x-shmem-frames'): ReturnType<typeof http> {
  const status = (await http(`${base}/status`)).body;
  return http(`${base}/peer/stream`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-shmem-cluster': status.cluster.id, 'x-shmem-protocol': '2', 'x-shmem-members': status.cluster.members.join(','), 'x-shmem-from': status.cluster.members[1] },
    body,
  });
}

/** The answer lines of a peer stream. */
const answerLines = (text: string): any[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

const cases: [string, () => ReturnType<typeof http>, number, string][] = [
  ['malformed JSON', () => post('/write', '{"addr": 3, "value": '), 400, 'bad_json'],
  ['JSON that is not an object', () => post('/write', '[3, "x"]'), 400, 'bad_request'],
  ['negative address', () => post('/write', '{"addr": -1, "value": "x"}'), 400, 'invalid_addr'],
  ['fractional address', () => post('/write', '{"addr": 3.5, "value": "x"}'), 400, 'invalid_addr'],
  ['string address', () => post('/write', '{"addr": "3", "value": "x"}'), 400, 'invalid_addr'],
  ['unsafe-integer address', () => post('/write', '{"addr": 9007199254740993, "value": "x"}'), 400, 'invalid_addr'],
  ['missing address', () => post('/write', '{"value": "x"}'), 400, 'invalid_addr'],
  ['number value', () => post('/write', '{"addr": 3, "value": 5}'), 400, 'invalid_value'],
  ['null value', () => post('/write', '{"addr": 3, "value": null}'), 400, 'invalid_value'],
  ['object value', () => post('/write', '{"addr": 3, "value": {"a": 1}}'), 400, 'invalid_value'],
  ['oversize value', () => post('/write', JSON.stringify({ addr: 3, value: 'é'.repeat(501) })), 400, 'value_too_large'],
  ['oversize body', () => post('/write', JSON.stringify({ addr: 3, value: 'x'.repeat(20_000) })), 413, 'body_too_large'],
  ['wrong content type', () => post('/write', '{"addr": 3, "value": "x"}', 'text/plain'), 415, 'bad_content_type'],
  ['negative address in a read', () => http(`${base}/read/-1`), 400, 'invalid_addr'],
  ['fractional address in a read', () => http(`${base}/read/3.5`), 400, 'invalid_addr'],
  ['string address in a read', () => http(`${base}/read/abc`), 400, 'invalid_addr'],
  ['unsafe-integer address in a read', () => http(`${base}/read/9007199254740993`), 400, 'invalid_addr'],
  ['percent garbage in a read', () => http(`${base}/read/%E0%A4%A`), 400, 'invalid_addr'],
  ['unknown route', () => http(`${base}/nope`), 404, 'not_found'],
  ['read without an address', () => http(`${base}/read/`), 400, 'invalid_addr'],
  ['wrong method on /write', () => http(`${base}/write`), 405, 'method_not_allowed'],
  ['wrong method on /read', () => http(`${base}/read/3`, { method: 'DELETE' }), 405, 'method_not_allowed'],
  ['peer stream without cluster identity', () => post('/peer/stream', `${evilUpdate}\n`, 'application/x-shmem-frames'), 400, 'bad_request'],
  ['peer stream with another cluster identity', () => http(`${base}/peer/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-shmem-frames', 'x-shmem-cluster': 'deadbeef', 'x-shmem-protocol': '2', 'x-shmem-members': '127.0.0.1:1,127.0.0.1:2', 'x-shmem-from': '127.0.0.1:1' },
    body: `${evilUpdate}\n`,
  }), 409, 'membership_mismatch'],
  ['peer stream of the right cluster with the wrong content type', async () => peerStream(`${evilUpdate}\n`, 'application/json'), 415, 'bad_content_type'],
];

for (const [name, send, status, code] of cases) {
  test(`${name} → ${status} ${code}`, async () => {
    const r = await send();
    assert.is(r.status, status, r.text);
    assert.is(r.body?.error?.code, code, r.text);
    assert.type(r.body.error.message, 'string');
    assert.not.match(r.text, /at .*\.js:\d+/, 'no stack trace in the answer');
  });
}

test('a member\'s stream answers queries frame by frame, in the order of its addresses', async () => {
  const r = await peerStream('{"id":1,"op":"query","addrs":[3,4],"values":true,"budget":1000}\n{"id":2,"op":"query","addrs":[3],"values":false}\n');
  assert.is(r.status, 200, r.text);
  const [a, b] = answerLines(r.text);
  assert.equal(a, { id: 1, items: [{ tag: original.tag, value: 'keep' }, { tag: { seq: 0, writer: '' }, value: null }] });
  assert.equal(b, { id: 2, items: [{ tag: original.tag }] }, 'tags only: no value');
  const ping = answerLines((await peerStream('{"id":3,"op":"ping"}\n')).text)[0];
  assert.is(ping.id, 3);
  assert.is(ping.ping.member, cluster.node(0).url.replace('http://', ''));
  assert.is(ping.ping.recovering, false);
});

const badStreams: [string, string][] = [
  ['a line that is not JSON', `{"id":1,"op":"query","addrs":[3]\n${evilUpdate}\n`],
  ['an unknown op', `{"id":1,"op":"delete","addrs":[3]}\n${evilUpdate}\n`],
  ['an update with a malformed tag', `{"id":1,"op":"update","items":[{"addr":3,"tag":{"seq":"99"},"value":"evil"}]}\n${evilUpdate}\n`],
  ['a request without an id', `{"op":"query","addrs":[3]}\n${evilUpdate}\n`],
  ['a stream that stops mid-line', '{"id":1,"op":"update","items":[{"addr":3,"tag":{"seq":99,"writer":"eeeeeeee.1"},"value":"ev'],
  // A replica that trusts no stranger (issue 11): each of these was once stored.
  ['a tag seq of 2^53-1 (the next write could not go above it)', `${forged({ seq: 9007199254740991, writer: 'eeeeeeee.1' }, 'max')}\n`],
  ['a tag seq just above the ceiling 2^52', `${forged({ seq: 2 ** 52 + 1, writer: 'eeeeeeee.1' }, 'max')}\n`],
  ['a null value with a tag above zero (a "delete")', `${forged({ seq: 1000, writer: 'eeeeeeee.1' }, null)}\n`],
  ['a writer id of the wrong shape', `${forged({ seq: 1000, writer: 'z' }, 'x')}\n`],
  ['seq 0 with a writer', `${forged({ seq: 0, writer: 'eeeeeeee.1' }, 'x')}\n`],
  ['a value over --value-bytes-max (1000 bytes here)', `${forged({ seq: 1000, writer: 'eeeeeeee.1' }, 'x'.repeat(1001))}\n`],
  ['an 8 MiB value inline (a header over 1 MiB, refused before it is parsed)', `${forged({ seq: 1000, writer: 'eeeeeeee.1' }, 'x'.repeat(8 * 1024 * 1024))}\n`],
  ['an 8 MiB value as raw bytes (announced over the frame bound, refused before it is read)',
    `${JSON.stringify({ id: 1, op: 'update', items: [{ addr: 3, tag: { seq: 1000, writer: 'eeeeeeee.1' }, bytes: 8 * 1024 * 1024 }], raw: 8 * 1024 * 1024 })}\n${'x'.repeat(64 * 1024)}`],
  ['a raw value over --value-bytes-max', `${JSON.stringify({ id: 1, op: 'update', items: [{ addr: 3, tag: { seq: 1000, writer: 'eeeeeeee.1' }, bytes: 2000 }], raw: 2000 })}\n${'x'.repeat(2000)}${evilUpdate}\n`],
  ['a query of 513 addresses (over the batch limit)', `${JSON.stringify({ id: 1, op: 'query', addrs: Array.from({ length: 513 }, (_, i) => i) })}\n${evilUpdate}\n`],
  ['a flood of 150 pings in one second', `${Array.from({ length: 150 }, (_, i) => JSON.stringify({ id: i + 1, op: 'ping' })).join('\n')}\n${evilUpdate}\n`],
  // compare-and-set and add (issue 31): an rmw batch is checked like an update.
  ['an rmw commit with a forged seq above the ceiling', `${rmwLine({ op: 'commit', addr: 3, tag: { seq: 2 ** 52 + 1, writer: 'eeeeeeee.1' }, value: 'evil', origin: BALLOT })}\n${evilUpdate}\n`],
  ['an rmw commit of a null value', `${rmwLine({ op: 'commit', addr: 3, tag: { seq: 1000, writer: 'eeeeeeee.1', rmwc: 1 }, value: null, origin: BALLOT })}\n${evilUpdate}\n`],
  ['an rmw accept with rmwc 0 spelled out', `${rmwLine({ op: 'accept', addr: 3, ballot: BALLOT, tag: { seq: 1000, writer: 'eeeeeeee.1', rmwc: 0 }, value: 'evil', origin: BALLOT, baseOrigin: null })}\n${evilUpdate}\n`],
  ['an rmw prepare whose ballot is not {round, node}', `${rmwLine({ op: 'prepare', addr: 3, ballot: { round: -1, node: 'x' } })}\n${evilUpdate}\n`],
  ['an rmw batch of 65 messages (over the limit of 64)', `${JSON.stringify({ id: 1, op: 'rmw', messages: Array.from({ length: 65 }, (_, i) => ({ op: 'prepare', addr: i, ballot: BALLOT })) })}\n${evilUpdate}\n`],
  ['an rmw op it does not know', `${rmwLine({ op: 'decide', addr: 3, ballot: BALLOT })}\n${evilUpdate}\n`],
];
const refusalMessages: Record<string, RegExp> = {
  'an rmw commit with a forged seq above the ceiling': /above the ceiling/,
  'an rmw commit of a null value': /value null/,
  'an rmw accept with rmwc 0 spelled out': /rmwc 0 is not an integer from 1/,
  'an rmw prepare whose ballot is not {round, node}': /ballot is not \{round, node\}/,
  'an rmw batch of 65 messages (over the limit of 64)': /1 to 64 messages, not 65/,
  'an rmw op it does not know': /"prepare", "accept" or "commit"/,
  'a tag seq of 2^53-1 (the next write could not go above it)': /above the ceiling/,
  'a tag seq just above the ceiling 2^52': /above the ceiling/,
  'a null value with a tag above zero (a "delete")': /value null/,
  'a writer id of the wrong shape': /writer id "z"/,
  'seq 0 with a writer': /seq 0/,
  'a value over --value-bytes-max (1000 bytes here)': /1001 bytes is over the limit of 1000/,
  'an 8 MiB value inline (a header over 1 MiB, refused before it is parsed)': /frame header exceeds the limit of 1048576 bytes/,
  'an 8 MiB value as raw bytes (announced over the frame bound, refused before it is read)': /announces 8388608 raw bytes, over the limit/,
  'a raw value over --value-bytes-max': /a value of 2000 bytes is over the limit of 1000/,
  'a query of 513 addresses (over the batch limit)': /513 addresses/,
  'a flood of 150 pings in one second': /pings in one second/,
};
for (const [name, body] of badStreams) {
  test(`peer stream with ${name} → an error line ends it, nothing after it applied`, async () => {
    const r = await peerStream(body);
    assert.is(r.status, 200, r.text);
    const lines = answerLines(r.text).filter((l) => l.ping === undefined);
    assert.is(lines.length, 1, r.text.slice(0, 500));
    assert.is(lines[0].id, null);
    assert.is(lines[0].error.code, 'bad_request');
    assert.type(lines[0].error.message, 'string');
    if (refusalMessages[name]) assert.match(lines[0].error.message, refusalMessages[name]!);
  });
}

test('POST /peer/rmw and POST /peer/acceptors refuse forged commits, bad rows and bodies that are not batches, naming the problem, and apply nothing', async () => {
  const status = (await http(`${base}/status`)).body;
  const headers = { 'content-type': 'application/json', 'x-shmem-cluster': status.cluster.id, 'x-shmem-protocol': '2', 'x-shmem-members': status.cluster.members.join(','), 'x-shmem-from': status.cluster.members[1] };
  for (const [body, says] of [
    [{ messages: [{ op: 'commit', addr: 3, tag: { seq: 99, writer: 'eeeeeeee.1', rmwc: 1 }, value: 'evil', origin: { round: 0, node: 'x' } }] }, /origin is not/],
    [{ messages: [] }, /1 to 64 messages, not 0/],
    [{ messages: 'all' }, /is \{"messages"/],
    [{ messages: [{ op: 'commit', addr: 3, tag: { seq: 99, writer: 'eeeeeeee.1' }, value: 'x'.repeat(1001), origin: BALLOT }] }, /over the limit of 1000/],
  ] as const) {
    const r = await http(`${base}/peer/rmw`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.is(r.status, 400, r.text);
    assert.match(r.body.error.message, says);
  }
  // Acceptor rows pushed by a member change are checked as the store checks its own.
  for (const [body, says] of [
    [{ items: [{ addr: 3, row: { promised: { round: 1 }, accepted: null, commits: [] } }] }, /acceptor row of address 3 is not valid/],
    [{ items: [{ addr: -3, row: { promised: null, accepted: null, commits: [] } }] }, /no valid addr/],
    [{ items: Array.from({ length: 257 }, (_, i) => ({ addr: i, row: { promised: null, accepted: null, commits: [] } })) }, /at most 256/],
  ] as const) {
    const r = await http(`${base}/peer/acceptors`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.is(r.status, 400, r.text);
    assert.match(r.body.error.message, says);
  }
  // Without the cluster's identity, nothing is even parsed.
  const stranger = await http(`${base}/peer/rmw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ op: 'prepare', addr: 3, ballot: BALLOT }] }) });
  assert.is(stranger.status, 400, stranger.text);
});

test('refused peer input is counted by reason in /metrics', async () => {
  const metrics = (await http(`${base}/metrics`)).text;
  for (const reason of ['bad_tag', 'null_value', 'value_too_large', 'batch_too_large', 'ping_flood', 'malformed', 'frame_too_large']) {
    assert.match(metrics, new RegExp(`shmem_peer_input_refused_total\\{reason="${reason}"\\} [1-9]`), reason);
  }
});

test('after all of that, the stored value is unchanged and every node is still up', async () => {
  for (const n of cluster.nodes) {
    assert.ok(n.running, `node ${n.port} is running`);
    const r = await readVia(n, 3);
    assert.equal(r.body, { addr: 3, value: original.value, tag: original.tag });
  }
});

test.run();
