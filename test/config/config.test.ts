import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/config.js';
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

test('listening on every interface needs --advertise', () => {
  assert.throws(() => loadConfig({ dataDir: '/d', host: '0.0.0.0' }, {}), configError(/--advertise/));
  assert.is(loadConfig({ dataDir: '/d', host: '0.0.0.0', advertise: 'node1.example:3030' }, {}).self, 'node1.example:3030');
});

test('the cluster id depends on the member set only, not its order', () => {
  assert.is(clusterId(['b:1', 'a:1']), clusterId(['a:1', 'b:1']));
  assert.is.not(clusterId(['a:1', 'b:1']), clusterId(['a:1', 'c:1']));
  assert.is(describeMemberDifference(['a:1', 'b:1'], ['a:1', 'c:1']), 'lacks b:1 and has extra c:1');
});

test.run();
