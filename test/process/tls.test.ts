import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, http, readVia, runCli, tempDir, writeVia, type ClientTls } from '../helpers/cluster.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';

/**
 * A 3-node cluster with TLS between clients and members and mutual TLS between members,
 * certificates made with openssl for this run. Each node has its own copy of the member
 * certificate so the rotation test can replace it.
 */
const test = suite('mutual TLS (real processes, real certificates)');
let pki: TestPki;
let cluster: Cluster;
let certDir: string;
let caTls: ClientTls;

test.before(async () => {
  pki = TestPki.make();
  certDir = tempDir('shmem-tls-nodes-');
  mkdirSync(certDir, { recursive: true });
  copyFileSync(pki.member.cert, join(certDir, 'node.pem'));
  copyFileSync(pki.member.key, join(certDir, 'node.key'));
  caTls = { ca: pki.ca };
  try {
    cluster = await Cluster.start(3, pki.memberFlags({ cert: join(certDir, 'node.pem'), key: join(certDir, 'node.key') }), caTls);
  } catch (err) {
    pki.remove();
    throw err;
  }
});
test.after(async () => {
  await cluster?.destroy();
  pki?.remove();
  (await import('node:fs')).rmSync(certDir, { recursive: true, force: true });
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { SHMEM_CACERT: pki.ca, ...env });

test('writes and reads through every node over https, with the CLI and --cacert', async () => {
  for (const [i, n] of cluster.nodes.entries()) {
    const w = await cli(['write', '3', `v${i}`, '--endpoints', n.url]);
    assert.is(w.code, 0, w.stderr);
    for (const m of cluster.nodes) {
      const r = await cli(['read', '3', '--endpoints', `127.0.0.1:${m.port}`]); // bare host:port: https because a CA is given
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, `v${i}\n`);
    }
  }
});

test('status over https sees every member up over mutual TLS', async () => {
  const s = await cli(['status', '--json', '--endpoints', cluster.node(1).url]);
  assert.is(s.code, 0, s.stderr);
  const doc = JSON.parse(s.stdout);
  assert.is(doc.cluster.verdict.startsWith('quorum ok'), true, doc.cluster.verdict);
  assert.equal(doc.peers.map((p: { state: string }) => p.state), ['up', 'up']);
  assert.is(doc.node.tls, true);
});

test('a client without the CA refuses the node\'s certificate, and says how to fix it', async () => {
  const r = await runCli(['read', '3', '--endpoints', cluster.node(0).url]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--cacert/);
  assert.not.match(r.stderr, /at .*\.js:\d+/);
});

test('plain http to a TLS node: 400 "this port speaks TLS", nothing stored (CLI: exit 1 with that message)', async () => {
  const url = cluster.node(0).url.replace('https:', 'http:');
  const r = await runCli(['write', '3', 'plain', '--endpoints', url]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /this port speaks TLS: use https:\/\//);
  const raw = await http(`${url}/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"addr":3,"value":"plain"}' });
  assert.is(raw.status, 400);
  assert.is(raw.body.error.code, 'bad_request');
  assert.is.not((await readVia(cluster.node(1), 3)).body.value, 'plain');
});

/** POST /peer/stream with a forged update of address 3, presenting `cert` (or none); the HTTP status. */
async function forgePeerStream(cert: CertFiles | undefined): Promise<{ status: number; text: string } | { error: string }> {
  const status = (await http(`${cluster.node(0).url}/status`, undefined, caTls)).body;
  const body = `${JSON.stringify({ id: 1, op: 'update', items: [{ addr: 3, tag: { seq: 1000, writer: 'eeeeeeee.1' }, value: 'FORGED' }] })}\n`;
  return new Promise((ok) => {
    const req = httpsRequest(`${cluster.node(0).url}/peer/stream`, {
      method: 'POST',
      ca: readFileSync(pki.ca),
      ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
      headers: {
        'content-type': 'application/x-shmem-frames', 'x-shmem-cluster': status.cluster.id, 'x-shmem-protocol': '2',
        'x-shmem-members': status.cluster.members.join(','), 'x-shmem-from': status.cluster.members[1],
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err) => ok({ error: String(err) }));
    req.end(body);
  });
}

const strangers: [string, () => CertFiles | undefined, number, string][] = [
  ['without a certificate', () => undefined, 401, 'unauthenticated'],
  ['with a certificate from another CA', () => pki.stranger, 403, 'permission_denied'],
  ['with an expired certificate from the cluster CA', () => pki.expired, 403, 'permission_denied'],
  ['with a client certificate of the cluster CA that names no member', () => pki.client, 403, 'permission_denied'],
];
for (const [name, cert, status, code] of strangers) {
  test(`a peer stream ${name} is refused: ${status} ${code}`, async () => {
    const r = await forgePeerStream(cert());
    assert.ok('status' in r, JSON.stringify(r));
    if (!('status' in r)) return;
    assert.is(r.status, status, r.text);
    assert.is(JSON.parse(r.text).error.code, code);
  });
}

test('after the forged peer streams, address 3 is unchanged on every node, and no node crashed', async () => {
  const before = await readVia(cluster.node(0), 3);
  assert.is(before.status, 200, before.text);
  assert.is.not(before.body.value, 'FORGED');
  for (const n of cluster.nodes) {
    assert.ok(n.running);
    const r = await readVia(n, 3);
    assert.equal(r.body, before.body);
  }
  const metrics = (await http(`${cluster.node(0).url}/metrics`, undefined, caTls)).text;
  assert.match(metrics, /shmem_access_refused_total\{scope="peer",code="unauthenticated"\} [1-9]/);
  assert.match(metrics, /shmem_access_refused_total\{scope="peer",code="permission_denied"\} [1-9]/);
  assert.ok(cluster.node(0).log.split('\n').filter((l) => l.includes('refused a peer request')).length <= 4, 'refusals are logged once per source, not per request');
});

test('kill -9 of one node, writes go on over TLS, the restarted node reads the newest value', async () => {
  await cluster.node(2).stop('SIGKILL');
  const w = await writeVia(cluster.node(0), 5, 'after-kill');
  assert.is(w.status, 200, w.text);
  cluster.node(2).start();
  await cluster.node(2).waitFor();
  const r = await readVia(cluster.node(2), 5);
  assert.is(r.body.value, 'after-kill', r.text);
});

/** The subject CN of the certificate a node presents now. */
function servedCn(port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), servername: undefined }, () => {
      const cn = String(s.getPeerCertificate().subject.CN);
      s.end();
      ok(cn);
    });
    s.on('error', fail);
  });
}

test('rotation: new certificates on SIGHUP, no operation lost meanwhile; a bad one is refused and the old kept', async () => {
  assert.is(await servedCn(cluster.node(0).port), 'shmem member');
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const w = await writeVia(cluster.node(i % 3), 6, `w${i}`).catch((err: Error) => ({ status: 0, text: err.message }));
      if (w.status === 200) ok++;
      else failures.push(w.text);
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  copyFileSync(pki.member2.cert, join(certDir, 'node.pem'));
  copyFileSync(pki.member2.key, join(certDir, 'node.key'));
  for (const n of cluster.nodes) n.signal('SIGHUP');
  await new Promise((r) => setTimeout(r, 1500));
  // An expired certificate is refused on reload, naming the file; the node keeps the one it has.
  copyFileSync(pki.expired.cert, join(certDir, 'node.pem'));
  copyFileSync(pki.expired.key, join(certDir, 'node.key'));
  cluster.node(1).signal('SIGHUP');
  await new Promise((r) => setTimeout(r, 1000));
  stop = true;
  await load;
  assert.equal(failures, [], 'no write failed during rotation');
  assert.ok(ok > 10, `writes went on during rotation (${ok})`);
  for (const n of cluster.nodes) assert.is(await servedCn(n.port), 'shmem member (rotated)');
  assert.match(cluster.node(1).log, /reload failed; keeping the previous credentials.*expired/);
  const s = await cli(['status', '--json', '--endpoints', cluster.node(1).url]);
  assert.equal(JSON.parse(s.stdout).peers.map((p: { state: string }) => p.state), ['up', 'up'], 'members still talk after the rotation');
  copyFileSync(pki.member2.cert, join(certDir, 'node.pem'));
  copyFileSync(pki.member2.key, join(certDir, 'node.key'));
});

test.run();
