import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cluster, freePorts, http, NodeProcess, readVia, runCli, tempDir, writeVia } from '../helpers/cluster.js';
import { TestPki } from '../helpers/certs.js';

/** Makes a token with the CLI itself, as an admin would: the token and its auth-file line. */
async function makeToken(role: string, name: string): Promise<{ token: string; line: string; id: string }> {
  const r = await runCli(['token', 'create', '--role', role, '--name', name, '--json']);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  return { token: j.token, line: j.authFileLine, id: j.id };
}

// ---------------------------------------------------------------------------------------
const tokens = suite('client tokens and roles (real processes)');
let dir: string;
let cluster: Cluster;
let authFile: string;
const t: Record<string, { token: string; line: string; id: string }> = {};

tokens.before(async () => {
  dir = tempDir('shmem-auth-');
  for (const role of ['read', 'write', 'admin']) t[role] = await makeToken(role, `test-${role}`);
  authFile = join(dir, 'auth');
  writeFileSync(authFile, `# test tokens\n${t['read']!.line}\n${t['write']!.line}\n${t['admin']!.line}\n`);
  cluster = await Cluster.start(3, ['--auth-file', authFile]);
});
tokens.after(async () => {
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const as = (role: string | undefined) => (role === undefined ? undefined : { token: t[role]!.token });
const write = (role: string | undefined, value: string) => http(`${cluster.node(0).url}/write`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr: 3, value }),
}, as(role));

tokens('the auth file holds no token in clear', () => {
  const text = readFileSync(authFile, 'utf8');
  for (const role of ['read', 'write', 'admin']) {
    assert.not.ok(text.includes(t[role]!.token.split('.')[2]!), `the ${role} secret is not in the file`);
    assert.match(t[role]!.line, /^[0-9a-f]{8} \w+ scrypt\$16384\$8\$1\$/);
  }
});

tokens('no token → 401 unauthenticated with a hint; /livez and /readyz stay open', async () => {
  for (const path of ['/read/3', '/status', '/tags', '/metrics']) {
    const r = await http(`${cluster.node(0).url}${path}`);
    assert.is(r.status, 401, `${path}: ${r.text}`);
    assert.is(r.body.error.code, 'unauthenticated');
    assert.match(r.body.error.hint, /SHMEM_TOKEN/);
  }
  const w = await write(undefined, 'anon');
  assert.is(w.status, 401);
  assert.is((await http(`${cluster.node(0).url}/livez`)).status, 200);
  assert.is((await http(`${cluster.node(0).url}/readyz`)).status, 200);
  const bad = await http(`${cluster.node(0).url}/read/3`, { headers: { authorization: 'Bearer shm.00000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  assert.is(bad.status, 401);
  assert.match(bad.body.error.message, /not in the auth file/);
  const wrongSecret = `${t['write']!.token.slice(0, -4)}AAAA`;
  const w2 = await http(`${cluster.node(0).url}/read/3`, { headers: { authorization: `Bearer ${wrongSecret}` } });
  assert.is(w2.status, 401);
  assert.match(w2.body.error.message, /secret does not match/);
});

tokens('a read token reads but cannot write (403 permission_denied); write and admin tokens write', async () => {
  const w = await write('read', 'by-reader');
  assert.is(w.status, 403, w.text);
  assert.is(w.body.error.code, 'permission_denied');
  assert.match(w.body.error.message, /role read; this needs write/);
  assert.is((await write('write', 'by-writer')).status, 200);
  const r = await http(`${cluster.node(1).url}/read/3`, undefined, as('read'));
  assert.is(r.body.value, 'by-writer');
  assert.is((await write('admin', 'by-admin')).status, 200);
});

tokens('/status details (data dir, pid) for admins only; /metrics with a read token', async () => {
  const reader = await http(`${cluster.node(0).url}/status`, undefined, as('read'));
  assert.is(reader.status, 200);
  assert.is(reader.body.node.dataDir, undefined);
  assert.is(reader.body.transport, undefined);
  const admin = await http(`${cluster.node(0).url}/status`, undefined, as('admin'));
  assert.is(admin.body.node.dataDir, cluster.node(0).dataDir);
  assert.match(admin.body.node.security.clientAuth, /tokens \(3\)/);
  const m = await http(`${cluster.node(0).url}/metrics`, undefined, as('read'));
  assert.is(m.status, 200);
  assert.match(m.text, /shmem_access_refused_total\{scope="client",code="permission_denied"\} [1-9]/);
});

tokens('the CLI takes SHMEM_TOKEN; without it, a clear error and exit 1', async () => {
  const ok = await runCli(['write', '4', 'cli', '--endpoints', cluster.node(2).url], { SHMEM_TOKEN: t['write']!.token });
  assert.is(ok.code, 0, ok.stderr);
  const r = await runCli(['read', '4', '--endpoints', cluster.node(0).url, '--token', t['read']!.token]);
  assert.is(r.stdout, 'cli\n');
  const no = await runCli(['read', '4', '--endpoints', cluster.node(0).url]);
  assert.is(no.code, 1);
  assert.match(no.stderr, /Error: this node requires a token/);
  assert.match(no.stderr, /Hint: .*SHMEM_TOKEN/);
  const denied = await runCli(['write', '4', 'x', '--endpoints', cluster.node(0).url], { SHMEM_TOKEN: t['read']!.token });
  assert.is(denied.code, 1);
  assert.match(denied.stderr, /has role read; this needs write/);
  const status = await runCli(['status', '--endpoints', cluster.node(0).url], { SHMEM_TOKEN: t['read']!.token });
  assert.is(status.code, 0, status.stderr);
  assert.match(status.stdout, /quorum ok/);
});

tokens('revocation: a token removed from the file is refused after SIGHUP; a new one works; nothing lost', async () => {
  const extra = await makeToken('write', 'added-later');
  const w0 = await write('write', 'before-reload');
  assert.is(w0.status, 200);
  writeFileSync(authFile, `${t['read']!.line}\n${t['admin']!.line}\n`); // the write token is gone
  appendFileSync(authFile, `${extra.line}\n`);
  for (const n of cluster.nodes) n.signal('SIGHUP');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await write('write', 'after-revoke')).status !== 401) await new Promise((r) => setTimeout(r, 50));
  const revoked = await write('write', 'after-revoke');
  assert.is(revoked.status, 401, revoked.text);
  const fresh = await http(`${cluster.node(0).url}/write`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr: 3, value: 'new-token' }),
  }, { token: extra.token });
  assert.is(fresh.status, 200, fresh.text);
  for (const n of cluster.nodes) {
    n.clientTls = { token: t['read']!.token };
    assert.is((await readVia(n, 3)).body.value, 'new-token');
  }
  // A broken auth file on SIGHUP is refused, naming the line; the node keeps the tokens it had.
  writeFileSync(authFile, 'garbage line\n');
  cluster.node(0).signal('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  assert.match(cluster.node(0).log, /reload failed; keeping the previous credentials.*line 1/);
  assert.is((await readVia(cluster.node(0), 3)).status, 200);
});

tokens.run();

// ---------------------------------------------------------------------------------------
const secret = suite('cluster secret without TLS (real processes)');
let sdir: string;
let scluster: Cluster;

secret.before(async () => {
  sdir = tempDir('shmem-secret-');
  writeFileSync(join(sdir, 'secret'), 'correct horse battery staple 42\n');
  writeFileSync(join(sdir, 'other'), 'another cluster secret entirely\n');
  scluster = await Cluster.start(3, ['--cluster-secret-file', join(sdir, 'secret')]);
});
secret.after(async () => {
  await scluster?.destroy();
  rmSync(sdir, { recursive: true, force: true });
});

async function forge(proof: string | undefined): Promise<{ status: number; body: any; text: string }> {
  const base = scluster.node(0).url;
  const st = (await http(`${base}/status`)).body;
  return http(`${base}/peer/stream`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-shmem-frames', 'x-shmem-cluster': st.cluster.id, 'x-shmem-protocol': '2', 'x-shmem-members': st.cluster.members.join(','),
      'x-shmem-from': st.cluster.members[1], ...(proof === undefined ? {} : { 'x-shmem-peer-proof': proof }),
    },
    body: `${JSON.stringify({ id: 1, op: 'update', items: [{ addr: 3, tag: { seq: 1000, writer: 'eeeeeeee.1' }, value: 'FORGED' }] })}\n`,
  });
}

secret('a forged peer update without the secret is refused (401), with a wrong proof too (403); data unchanged', async () => {
  assert.is((await writeVia(scluster.node(0), 3, 'real')).status, 200);
  const none = await forge(undefined);
  assert.is(none.status, 401, none.text);
  assert.is(none.body.error.code, 'unauthenticated');
  const wrong = await forge('0'.repeat(64));
  assert.is(wrong.status, 403, wrong.text);
  assert.is(wrong.body.error.code, 'permission_denied');
  for (const n of scluster.nodes) assert.is((await readVia(n, 3)).body.value, 'real');
});

secret('a member restarted with another secret is refused by the others, never counted, and logged once', async () => {
  const n2 = scluster.node(2);
  await n2.stop('SIGKILL');
  n2.extraArgs = ['--cluster-secret-file', join(sdir, 'other')];
  n2.start();
  await n2.waitFor('/livez');
  await new Promise((r) => setTimeout(r, 1500));
  const st = (await http(`${scluster.node(0).url}/status`)).body;
  const row = st.peers.find((p: { member: string }) => p.member === `127.0.0.1:${n2.port}`);
  assert.is(row.state, 'mismatch', JSON.stringify(row));
  assert.match(row.error, /cluster secret/);
  // Through the outsider nothing reaches a quorum (the members refuse it); through the others writes still work.
  const via2 = await writeVia(n2, 7, 'via-outsider');
  assert.is(via2.status, 409, via2.text);
  assert.is(via2.body.error.code, 'membership_mismatch');
  assert.match(via2.body.error.message, /proved another cluster secret/);
  assert.is((await writeVia(scluster.node(0), 7, 'via-member')).status, 200);
  const logged = scluster.node(0).log.split('\n').filter((l) => l.includes('refused a peer request')).length;
  assert.ok(logged >= 1 && logged <= 3, `refusals logged once per source, not per heartbeat (${logged} lines)`);
  await n2.stop('SIGKILL');
  n2.extraArgs = ['--cluster-secret-file', join(sdir, 'secret')];
  n2.start();
  await n2.waitFor();
});

secret.run();

// ---------------------------------------------------------------------------------------
const starting = suite('refusals to start (real processes)');
let pki: TestPki;
let xdir: string;

starting.before(() => {
  pki = TestPki.make();
  xdir = tempDir('shmem-start-');
});
starting.after(() => {
  pki?.remove();
  rmSync(xdir, { recursive: true, force: true });
});

const startArgs = async (extra: string[]): Promise<string[]> => {
  const [port] = await freePorts(1);
  return ['start', '--port', String(port), '--data-dir', join(xdir, `d${port}`), ...extra];
};

const refusals: [string, () => string[], RegExp][] = [
  ['--host 0.0.0.0 without TLS and client auth', () => ['--host', '0.0.0.0', '--advertise', '127.0.0.1:1'], /reachable from the network.*--insecure/s],
  ['an expired certificate', () => pki.memberFlags(pki.expired), /TLS certificate in .*expired\.pem expired on/],
  ['a key that is not the certificate\'s', () => ['--tls-cert', pki.member.cert, '--tls-key', pki.member2.key, '--tls-ca', pki.ca], /member2\.key does not belong to the certificate/],
  ['a certificate from another CA than --tls-ca', () => pki.memberFlags(pki.stranger), /stranger\.pem .* is not signed by the CA in/],
  ['a missing certificate file', () => ['--tls-cert', '/nonexistent/x.pem', '--tls-key', pki.member.key, '--tls-ca', pki.ca], /\/nonexistent\/x\.pem: cannot read it \(ENOENT\)/],
  ['a cluster secret shorter than 16 bytes', () => {
    writeFileSync(join(xdir, 'short'), 'tiny\n');
    return ['--cluster-secret-file', join(xdir, 'short')];
  }, /the secret is 4 bytes, it must be 16/],
  ['a malformed auth file', () => {
    writeFileSync(join(xdir, 'auth'), '# ok\nabcdef12 superuser scrypt$1$2$3$x$y bob\n');
    return ['--auth-file', join(xdir, 'auth')];
  }, /auth file .*auth:\n\s+- line 2: role "superuser" is not one of read, write, admin/],
];
for (const [name, extra, message] of refusals) {
  starting(`start refuses ${name}: exit 2, config_invalid naming the problem`, async () => {
    const r = await runCli(await startArgs(extra()));
    assert.is(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^Error: /);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
}

starting('--insecure starts on 0.0.0.0 on purpose, and says so in the log', async () => {
  const [port] = await freePorts(1);
  const node = new NodeProcess(port!, [], join(xdir, 'insecure'), ['--host', '0.0.0.0', '--advertise', `127.0.0.1:${port}`, '--insecure']);
  node.start();
  try {
    await node.waitFor('/livez');
    assert.match(node.log, /listening beyond loopback with --insecure/);
  } finally {
    await node.stop('SIGTERM');
  }
});

starting('client certificates required: a client without one cannot connect; with one it can', async () => {
  const [port] = await freePorts(1);
  const node = new NodeProcess(port!, [], join(xdir, 'mtls'), [...pki.memberFlags(), '--client-cert-auth']);
  node.clientTls = { ca: pki.ca, cert: pki.client.cert, key: pki.client.key };
  node.start();
  try {
    await node.waitFor();
    assert.is((await writeVia(node, 1, 'with-cert')).status, 200);
    const without = await http(`${node.url}/read/1`, undefined, { ca: pki.ca }).then((r) => `answered ${r.status}`, (e: Error) => `failed: ${e.message}`);
    assert.match(without, /^failed/);
    const cli = await runCli(['read', '1', '--endpoints', node.url, '--cacert', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key]);
    assert.is(cli.stdout, 'with-cert\n', cli.stderr);
    const noCert = await runCli(['read', '1', '--endpoints', node.url, '--cacert', pki.ca]);
    assert.is(noCert.code, 1);
    assert.not.match(noCert.stderr, /at .*\.js:\d+/);
  } finally {
    await node.stop('SIGTERM');
  }
});

starting.run();
