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
  ['peer API without cluster identity', () => post('/peer/update', '{"items":[{"addr":3,"tag":{"seq":99,"writer":"z"},"value":"evil"}]}'), 400, 'bad_request'],
  ['peer API with another cluster identity', () => http(`${base}/peer/update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shmem-cluster': 'deadbeef', 'x-shmem-members': '127.0.0.1:1,127.0.0.1:2', 'x-shmem-from': '127.0.0.1:1' },
    body: '{"items":[{"addr":3,"tag":{"seq":99,"writer":"z"},"value":"evil"}]}',
  }), 409, 'membership_mismatch'],
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

test('after all of that, the stored value is unchanged and every node is still up', async () => {
  for (const n of cluster.nodes) {
    assert.ok(n.running, `node ${n.port} is running`);
    const r = await readVia(n, 3);
    assert.equal(r.body, { addr: 3, value: original.value, tag: original.tag });
  }
});

test.run();
