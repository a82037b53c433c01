import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, freePorts, http, readVia, runCli, tempDir, writeVia } from '../helpers/cluster.js';

/** Small inputs that were accepted, mis-stored or mis-reported (issue 12, "Smaller"). */
const test = suite('small hostile inputs (real processes)');
let cluster: Cluster;
let base: string;

test.before(async () => {
  cluster = await Cluster.start(3);
  base = cluster.node(0).url;
  for (const addr of [1, 2, 3]) assert.is((await writeVia(cluster.node(0), addr, `keep${addr}`)).status, 200);
});
test.after(async () => {
  await cluster?.destroy();
});

const postRaw = (path: string, body: Buffer | string) => http(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('a lone surrogate in a value is refused (invalid_value), not stored as U+FFFD', async () => {
  const r = await postRaw('/write', '{"addr":1,"value":"a\\ud800b"}');
  assert.is(r.status, 400, r.text);
  assert.is(r.body.error.code, 'invalid_value');
  assert.match(r.body.error.message, /lone surrogate/);
});

test('invalid UTF-8 bytes in a body are refused (invalid_value)', async () => {
  const r = await postRaw('/write', Buffer.concat([Buffer.from('{"addr":2,"value":"a'), Buffer.from([0xff]), Buffer.from('b"}')]));
  assert.is(r.status, 400, r.text);
  assert.is(r.body.error.code, 'invalid_value');
  assert.match(r.body.error.message, /not valid UTF-8/);
});

/** Sends a request line as written (fetch would normalise `//x/write`). */
function rawRequest(port: number, requestLine: string, body = ''): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1', () => {
      s.end(`${requestLine}\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (text += d));
    s.on('end', () => ok(text));
    s.on('error', fail);
  });
}

test('routes match the raw path: //x/write, //x/peer/registers and //read/3 are unknown routes', async () => {
  const port = cluster.node(0).port;
  const w = await rawRequest(port, 'POST //x/write HTTP/1.1', '{"addr":3,"value":"via-x"}');
  assert.match(w, /^HTTP\/1\.1 404/);
  assert.match(w, /no route for POST \/\/x\/write/);
  assert.match(await rawRequest(port, 'GET //x/peer/registers HTTP/1.1'), /^HTTP\/1\.1 404/);
  const r = await rawRequest(port, 'GET //read/3 HTTP/1.1');
  assert.match(r, /no route for GET \/\/read\/3/);
});

test('/peer/registers takes plain digits only as limit', async () => {
  const st = (await http(`${base}/status`)).body;
  const headers = { 'x-shmem-protocol': '2', 'x-shmem-cluster': st.cluster.id, 'x-shmem-members': st.cluster.members.join(','), 'x-shmem-from': st.cluster.members[1] };
  for (const limit of ['1e3', '0x10', '%205', '1.0', '-1', '0', '1001']) {
    const r = await http(`${base}/peer/registers?limit=${limit}`, { headers });
    assert.is(r.status, 400, `${limit}: ${r.text}`);
    assert.match(r.body.error.message, /limit must be an integer from 1 to 1000/);
  }
  assert.is((await http(`${base}/peer/registers?limit=5`, { headers })).status, 200);
});

test('/peer/changes and /peer/tags refuse bad positions, limits, values and log ids with a 400 naming the parameter, and answer good ones', async () => {
  const st = (await http(`${base}/status`)).body;
  const headers = { 'x-shmem-protocol': '2', 'x-shmem-cluster': st.cluster.id, 'x-shmem-members': st.cluster.members.join(','), 'x-shmem-from': st.cluster.members[1] };
  const bad: [string, RegExp][] = [
    ['/peer/changes?since=-1', /since must be an integer from 0/],
    ['/peer/changes?since=1e3', /since must be an integer/],
    ['/peer/changes?since=99999999999999999', /since must be an integer/],
    ['/peer/changes?limit=0', /limit must be an integer from 1 to 1000/],
    ['/peer/changes?limit=1001', /limit must be an integer from 1 to 1000/],
    ['/peer/changes?values=yes', /values must be 0 or 1/],
    ['/peer/changes?log=%00%01', /log must be 1 to 64 characters/],
    [`/peer/changes?log=${'a'.repeat(65)}`, /log must be 1 to 64 characters/],
    ['/peer/changes?cfg=x', /cfg must be a non-negative integer/],
    ['/peer/tags?after=-5', /address/],
    ['/peer/tags?limit=5000', /limit must be an integer from 1 to 1000/],
  ];
  for (const [path, why] of bad) {
    const r = await http(`${base}${path}`, { headers });
    assert.is(r.status, 400, `${path}: ${r.text}`);
    assert.match(r.body.error.message, why, path);
  }
  const feed = await http(`${base}/peer/changes?since=0&limit=5`, { headers });
  assert.is(feed.status, 200, feed.text);
  assert.ok(typeof feed.body.log === 'string' && Number.isSafeInteger(feed.body.head) && Array.isArray(feed.body.tags));
  const tags = await http(`${base}/peer/tags?limit=5`, { headers });
  assert.is(tags.status, 200, tags.text);
  assert.ok(Array.isArray(tags.body.tags));
  // Without the member headers (a client, not a peer): refused like every peer route.
  assert.is.not((await http(`${base}/peer/changes`)).status, 200);
});

test('POST /repair takes only an empty JSON object', async () => {
  for (const body of ['{"all":true}', '[]', '"x"', '{']) {
    const r = await http(`${base}/repair`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.is(r.status, 400, `${body}: ${r.text}`);
  }
});

test('a client that goes away mid-body is not logged as a server error', async () => {
  const before = cluster.node(0).log.split('\n').filter((l) => l.includes('"level":"error"')).length;
  await new Promise<void>((ok, fail) => {
    const s = connect(cluster.node(0).port, '127.0.0.1', () => {
      s.write('POST /write HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"addr":1,"value":"half');
      setTimeout(() => {
        s.destroy();
        ok();
      }, 100);
    });
    s.on('error', fail);
  });
  await new Promise((r) => setTimeout(r, 300));
  const after = cluster.node(0).log.split('\n').filter((l) => l.includes('"level":"error"')).length;
  assert.is(after, before, cluster.node(0).log.slice(-2000));
});

test('after all of that, every stored value is unchanged on every node and every node is up', async () => {
  for (const n of cluster.nodes) {
    assert.ok(n.running);
    for (const addr of [1, 2, 3]) assert.is((await readVia(n, addr)).body.value, `keep${addr}`);
  }
});

const dir = tempDir('shmem-small-');
const startRefusals: [string, () => Promise<string[]>, RegExp][] = [
  ['a config file that is a device (/dev/zero)', async () => ['--config', '/dev/zero'], /config file \/dev\/zero: not a regular file/],
  ['a 2 MB config file', async () => {
    writeFileSync(join(dir, 'big.json'), `{"${'x'.repeat(2 * 1024 * 1024)}": 1}`);
    return ['--config', join(dir, 'big.json')];
  }, /big\.json: 2097\d+ bytes, the limit is 1048576/],
  ['an inherited key in the config file ("toString")', async () => {
    writeFileSync(join(dir, 'proto.json'), '{"toString": "x", "constructor": 1}');
    return ['--config', join(dir, 'proto.json')];
  }, /"toString" is not a setting[\s\S]*"constructor" is not a setting/],
  ['a bracketed peer that is no IPv6 address', async () => ['--peers', '[:::::]:1'], /\[:::::\] is not an IPv6 address/],
  ['an IPv6 peer without brackets', async () => ['--peers', '::1:3030'], /an IPv6 address goes in brackets/],
  ['a data dir that is a device (/dev/null)', async () => ['--data-dir', '/dev/null'], /--data-dir \/dev\/null: cannot use it \(it is not a directory/],
  ['a data dir that is a regular file', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    return ['--data-dir', join(dir, 'a-file')];
  }, /--data-dir .*a-file: cannot use it \(it is not a directory, ENOTDIR\)/],
  ['a data dir under a regular file', async () => {
    writeFileSync(join(dir, 'plain'), 'x');
    return ['--data-dir', join(dir, 'plain', 'data')];
  }, /--data-dir .*plain\/data: cannot use it \(it is not a directory, ENOTDIR\)/],
  ['a data dir on a read-only file system (/proc)', async () => ['--data-dir', '/proc/shmem-data'], /--data-dir \/proc\/shmem-data: cannot use it/],
];

test('start on a port another process listens on: exit 2, config_invalid naming the address and what to do', async () => {
  const taken = cluster.node(0).port;
  const r = await runCli(['start', '--port', String(taken), '--data-dir', join(dir, 'taken')]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: another process is listening there \\(EADDRINUSE\\)`));
  assert.match(r.stderr, /choose another --port/);
  // The refused start released its data dir: another start can take it.
  const again = await runCli(['start', '--port', String(taken), '--data-dir', join(dir, 'taken')]);
  assert.not.match(again.stderr, /in use by another shmem process/);
});
for (const [name, args, message] of startRefusals) {
  test(`start refuses ${name}: exit 2, config_invalid naming it, a short message`, async () => {
    const [port] = await freePorts(1);
    const extra = await args();
    const r = await runCli(['start', '--port', String(port), ...(extra.includes('--data-dir') ? [] : ['--data-dir', join(dir, `d${port}`)]), ...extra]);
    assert.is(r.code, 2, r.stdout.slice(-500) + r.stderr.slice(0, 500));
    assert.match(r.stderr, message);
    assert.ok(r.stderr.length < 4096, `the message is short (${r.stderr.length} bytes)`);
    assert.not.match(r.stderr, /at .*\.js:\d+/);
  });
}

test.run();
