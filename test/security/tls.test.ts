import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../src/errors.js';
import { loadTlsMaterial } from '../../src/security/tls.js';
import { ClusterSecret } from '../../src/security/cluster-secret.js';
import { TestPki } from '../helpers/certs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const test = suite('TLS material and the cluster secret (certificates made with openssl)');
let pki: TestPki;
test.before(() => {
  pki = TestPki.make();
});
test.after(() => {
  pki?.remove();
});

const refused = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);

test('a member certificate from the CA loads, with its expiry', () => {
  const m = loadTlsMaterial({ cert: pki.member.cert, key: pki.member.key, ca: pki.ca });
  assert.ok(m.notAfter.getTime() > Date.now());
  assert.is(m.memberCas.length, 1);
  assert.is(m.clientCa, m.ca, 'the client CA defaults to the member CA');
});

test('each bad file is refused naming the file and the problem', () => {
  assert.throws(() => loadTlsMaterial({ cert: pki.expired.cert, key: pki.expired.key, ca: pki.ca }), refused(/expired\.pem expired on/));
  assert.throws(() => loadTlsMaterial({ cert: pki.member.cert, key: pki.client.key, ca: pki.ca }), refused(/client\.key does not belong to the certificate/));
  assert.throws(() => loadTlsMaterial({ cert: pki.stranger.cert, key: pki.stranger.key, ca: pki.ca }), refused(/is not signed by the CA in/));
  assert.throws(() => loadTlsMaterial({ cert: pki.member.key, key: pki.member.key, ca: pki.ca }), refused(/member\.key: holds no certificate/));
  const junk = join(pki.dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate at all');
  assert.throws(() => loadTlsMaterial({ cert: junk, key: pki.member.key, ca: pki.ca }), refused(/junk\.pem: not a PEM file/));
  assert.throws(() => loadTlsMaterial({ cert: pki.member.cert, key: pki.member.key, ca: '/nonexistent/ca.pem' }), refused(/\/nonexistent\/ca\.pem: cannot read it/));
});

test('the cluster secret: a proof verifies only for the same secret and cluster, compared in constant time', () => {
  const a = join(pki.dir, 's1');
  const b = join(pki.dir, 's2');
  writeFileSync(a, 'one secret of enough length\n');
  writeFileSync(b, 'another secret of enough length\n');
  const s1 = ClusterSecret.read(a);
  const s2 = ClusterSecret.read(b);
  assert.ok(s1.verify('c1', s1.proof('c1')));
  assert.not.ok(s1.verify('c1', s2.proof('c1')));
  assert.not.ok(s1.verify('c2', s1.proof('c1')), 'a proof is bound to its cluster');
  assert.not.ok(s1.verify('c1', ''), 'an empty proof');
  assert.not.ok(s1.proof('c1').includes('one secret'), 'the proof does not carry the secret');
  writeFileSync(a, 'short');
  assert.throws(() => ClusterSecret.read(a), refused(/the secret is 5 bytes, it must be 16 to 4096/));
});

test.run();
