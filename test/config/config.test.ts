import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { loadConfig, readConfigFile } from '../../src/config/config.js';
import { tempDir } from '../helpers/cluster.js';
import { clusterId, describeMemberDifference } from '../../src/config/members.js';
import { ConfigError } from '../../src/errors.js';

const test = suite('config');
const configError = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test(e.message);

test('flags win over environment, environment over defaults', () => {
  const env = { SHMEM_PORT: '4000', SHMEM_DATA_DIR: '/env/dir', SHMEM_PEERS: '127.0.0.1:4001' };
  const c = loadConfig({ port: '5000' }, env);
  assert.is(c.port, 5000);
  assert.is(c.dataDir, '/env/dir');
  assert.equal(c.peers, ['127.0.0.1:4001']);
  assert.is(c.host, '127.0.0.1');
  assert.is(c.durability, 'full');
  assert.equal(c.members, ['127.0.0.1:4001', '127.0.0.1:5000']);
  assert.ok(Object.isFrozen(c));
});

test('a single node without peers is a valid cluster of one', () => {
  const c = loadConfig({ dataDir: '/d' }, {});
  assert.equal(c.members, ['127.0.0.1:3030']);
});

test('errors name the setting and where the value came from, all at once', () => {
  let message = '';
  try {
    loadConfig({ port: '70000', peers: 'nonsense' }, { SHMEM_DURABILITY: 'maybe' });
  } catch (err) {
    assert.instance(err, ConfigError);
    message = (err as Error).message;
  }
  assert.match(message, '--port: "70000" must be an integer from 1 to 65535');
  assert.match(message, '--peers: "nonsense" is not host:port');
  assert.match(message, 'SHMEM_DURABILITY: "maybe" must be one of full, normal');
  assert.match(message, '--data-dir (or SHMEM_DATA_DIR) is required');
});

test('peers may not list this node or the same member twice', () => {
  assert.throws(() => loadConfig({ dataDir: '/d', peers: '127.0.0.1:3030' }, {}), configError(/lists this node itself/));
  assert.throws(() => loadConfig({ dataDir: '/d', peers: '127.0.0.1:1,127.0.0.1:1' }, {}), configError(/twice/));
});

test('members may be named by URL, as --endpoints takes them; the scheme must match TLS; anything more than scheme and host:port is refused', () => {
  const c = loadConfig({ dataDir: '/d', peers: 'http://127.0.0.1:4001, HTTP://LocalHost:4002/' }, {});
  assert.equal(c.peers, ['127.0.0.1:4001', 'localhost:4002']);
  assert.equal(loadConfig({ dataDir: '/d', join: 'http://127.0.0.1:4001' }, {}).join, ['127.0.0.1:4001']);
  assert.throws(() => loadConfig({ dataDir: '/d', peers: 'https://127.0.0.1:4001' }, {}), configError(/--peers: "https:\/\/127\.0\.0\.1:4001": this cluster's members speak plain http \(TLS is off\)/));
  assert.throws(() => loadConfig({ dataDir: '/d', join: 'http://127.0.0.1:4001/members' }, {}), configError(/is not host:port or a URL http\(s\):\/\/host:port/));
  assert.throws(() => loadConfig({ dataDir: '/d', peers: 'http://user@127.0.0.1:4001' }, {}), configError(/is not host:port or a URL/));
  assert.throws(() => loadConfig({ dataDir: '/d', peers: 'ws://127.0.0.1:4001' }, {}), configError(/members speak http or https, not ws/));
  const tls = { dataDir: '/d', tlsCert: '/c.pem', tlsKey: '/k.pem', tlsCa: '/ca.pem' };
  assert.throws(() => loadConfig({ ...tls, peers: 'http://127.0.0.1:4001' }, {}), configError(/members speak https \(TLS is on\)/));
});

test('listening on every interface needs --advertise', () => {
  assert.throws(() => loadConfig({ dataDir: '/d', host: '0.0.0.0' }, {}), configError(/--advertise/));
  assert.is(loadConfig({ dataDir: '/d', host: '0.0.0.0', advertise: 'node1.example:3030', insecure: 'true' }, {}).self, 'node1.example:3030');
});

test('listening beyond loopback needs TLS and client authentication, or --insecure', () => {
  const exposed = { dataDir: '/d', host: '10.0.0.1', port: '3030' };
  assert.throws(() => loadConfig(exposed, {}), configError(/reachable from the network, but TLS .* and client authentication .* are off.*--insecure/s));
  const tls = { tlsCert: '/c.pem', tlsKey: '/k.pem', tlsCa: '/ca.pem' };
  assert.throws(() => loadConfig({ ...exposed, ...tls }, {}), configError(/client authentication \(--auth-file or --client-cert-auth\) is off/));
  assert.throws(() => loadConfig({ ...exposed, authFile: '/auth' }, {}), configError(/TLS \(--tls-cert, --tls-key, --tls-ca\) is off/));
  assert.is(loadConfig({ ...exposed, ...tls, authFile: '/auth' }, {}).security.tls?.cert, '/c.pem');
  assert.is(loadConfig({ ...exposed, ...tls, clientCertAuth: 'true' }, {}).security.clientCertAuth, true);
  assert.is(loadConfig(exposed, { SHMEM_INSECURE: 'true' }).insecure, true);
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) assert.is(loadConfig({ dataDir: '/d', host }, {}).insecure, false, host);
  // IPv6: the listen address without brackets, the member id with them.
  const v6 = loadConfig({ dataDir: '/d', host: '[::1]', port: '3030' }, {});
  assert.equal([v6.host, v6.self], ['::1', '[::1]:3030']);
  assert.is(loadConfig({ dataDir: '/d', host: '::1', port: '3030' }, {}).self, '[::1]:3030');
  assert.throws(() => loadConfig({ dataDir: '/d', host: 'no such host!' }, {}), configError(/is not an IP address or a host name/));
});

test('a peer that is this node under another spelling is refused at start', () => {
  assert.throws(() => loadConfig({ dataDir: '/d', port: '3040', peers: 'localhost:3040,127.0.0.1:3041' }, {}),
    configError(/localhost:3040 is this node itself \(port 3040 on an address of this machine\)/));
  const everywhere = { dataDir: '/d', host: '0.0.0.0', advertise: '10.9.9.9:3040', port: '3040', insecure: 'true' };
  assert.throws(() => loadConfig({ ...everywhere, peers: '127.0.0.2:3040,10.0.0.2:3040' }, {}), configError(/127\.0\.0\.2:3040 is this node itself/));
  // Other nodes on this machine (other ports) and the same port elsewhere are fine.
  assert.equal(loadConfig({ dataDir: '/d', port: '3040', peers: 'localhost:3041,127.0.0.1:3042' }, {}).peers, ['localhost:3041', '127.0.0.1:3042']);
  assert.equal(loadConfig({ ...everywhere, peers: '10.0.0.2:3040,10.0.0.3:3040' }, {}).peers, ['10.0.0.2:3040', '10.0.0.3:3040']);
});

test('TLS settings go together and are checked across fields', () => {
  assert.throws(() => loadConfig({ dataDir: '/d', tlsCert: '/c.pem' }, {}), configError(/TLS needs all of --tls-cert, --tls-key and --tls-ca/));
  assert.throws(() => loadConfig({ dataDir: '/d', clientCertAuth: 'true' }, {}), configError(/--client-cert-auth needs TLS/));
  assert.throws(() => loadConfig({ dataDir: '/d', clientCertAuth: 'yes' }, {}), configError(/must be one of false, true/));
  assert.throws(() => loadConfig({ dataDir: '/d', authFile: ' ' }, {}), configError(/is empty; give a file path/));
});

test('the cluster id depends on the member set only, not its order', () => {
  assert.is(clusterId(['b:1', 'a:1']), clusterId(['a:1', 'b:1']));
  assert.is.not(clusterId(['a:1', 'b:1']), clusterId(['a:1', 'c:1']));
  assert.is(describeMemberDifference(['a:1', 'b:1'], ['a:1', 'c:1']), 'lacks b:1 and has extra c:1');
});

/** Config files written by the test that is running, removed after it. */
const written: string[] = [];
test.after.each(() => {
  for (const path of written.splice(0)) rmSync(dirname(path), { recursive: true, force: true });
});

function configFile(content: string): string {
  const path = join(tempDir('shmem-config-'), 'shmem.json');
  writeFileSync(path, content);
  written.push(path);
  return path;
}

test('a JSON config file sits below flags and environment, above defaults', () => {
  const path = configFile(JSON.stringify({ port: 4100, peers: ['127.0.0.1:4101', '127.0.0.1:4102'], dataDir: '/file/dir', logLevel: 'warn' }));
  const file = readConfigFile(path);
  const c = loadConfig({ logLevel: 'debug' }, { SHMEM_DATA_DIR: '/env/dir' }, file);
  assert.is(c.port, 4100);
  assert.equal(c.peers, ['127.0.0.1:4101', '127.0.0.1:4102']);
  assert.is(c.dataDir, '/env/dir');
  assert.is(c.logLevel, 'debug');
  assert.is(c.durability, 'full');
});

test('config file problems name the file and the key', () => {
  assert.throws(() => readConfigFile(configFile('{"port": 1, "prot": 2}')), configError(/shmem\.json[\s\S]*"prot" is not a setting/));
  assert.throws(() => readConfigFile(configFile('{"port": ')), configError(/shmem\.json: not valid JSON/));
  assert.throws(() => readConfigFile(configFile('[1]')), configError(/must be a JSON object/));
  assert.throws(() => readConfigFile(configFile('{"peers": {"a": 1}}')), configError(/"peers" must be a string or an array of strings/));
  assert.throws(() => readConfigFile('/nonexistent/shmem.json'), configError(/cannot read it \(ENOENT\)/));
  const bad = readConfigFile(configFile('{"port": 99999, "dataDir": "/d"}'));
  assert.throws(() => loadConfig({}, {}, bad), configError(/"port" in .*shmem\.json: "99999" must be an integer from 1 to 65535/));
});

test.run();
