import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../src/errors.js';
import { createToken, readAuthFile, TokenStore } from '../../src/security/tokens.js';
import { roleAllows } from '../../src/security/roles.js';
import { tempDir } from '../helpers/cluster.js';

const test = suite('tokens and the auth file');
let dir: string;
test.before(() => {
  dir = tempDir('shmem-tokens-');
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const authFile = (text: string): string => {
  const path = join(dir, `auth-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  return path;
};

test('a created token verifies against its auth-file line, and the line holds no secret', async () => {
  const { token, line } = await createToken('write', 'ci');
  const store = new TokenStore(readAuthFile(authFile(`# comment\n\n${line}\n`)));
  const entry = await store.verify(token);
  assert.ok(typeof entry !== 'string', String(entry));
  if (typeof entry === 'string') return;
  assert.is(entry.role, 'write');
  assert.is(entry.name, 'ci');
  assert.not.ok(line.includes(token.split('.')[2]!));
  // Seen once, it is checked from memory: no promise, no scrypt.
  const again = store.verify(token);
  assert.not.ok(again instanceof Promise);
});

test('wrong secret, unknown id, and a string of another shape are refused with a reason', async () => {
  const { token, line } = await createToken('read', 'r');
  const store = new TokenStore(readAuthFile(authFile(`${line}\n`)));
  const [, id, secret] = token.split('.');
  const flipped = `shm.${id}.${secret!.slice(0, -1)}${secret!.endsWith('A') ? 'B' : 'A'}`;
  assert.match(String(await store.verify(flipped)), /secret does not match/);
  assert.match(String(await store.verify(`shm.00000000.${secret}`)), /not in the auth file/);
  assert.match(String(await store.verify('Bearer nonsense')), /not of the form/);
});

test('a malformed auth file is a config_invalid error naming the file and each bad line', () => {
  const path = authFile([
    'abcdef12 admin scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5 ok',
    'abcdef12 admin scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5 twice',
    'nothex00 read scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5 x',
    'abcdef13 root scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5 x',
    'abcdef14 read scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5 x',
    'abcdef15 read plaintext-secret x',
    'only three fields',
  ].join('\n'));
  try {
    readAuthFile(path);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ConfigError);
    const m = (err as Error).message;
    assert.match(m, path);
    assert.match(m, /line 2: token id abcdef12 appears twice/);
    assert.match(m, /line 3: token id "nothex00" is not 8 hex digits/);
    assert.match(m, /line 4: role "root" is not one of read, write, admin/);
    assert.match(m, /line 5: scrypt parameters N=1073741824 .* outside the accepted range/);
    assert.match(m, /line 6: hash is not scrypt/);
    assert.match(m, /line 7: expected 4 fields/);
  }
  assert.throws(() => readAuthFile(join(dir, 'missing')), (e: unknown) => e instanceof ConfigError && /cannot read it \(ENOENT\)/.test((e as Error).message));
});

test('roles: admin > write > read', () => {
  assert.ok(roleAllows('admin', 'write') && roleAllows('write', 'read') && roleAllows('read', 'read'));
  assert.not.ok(roleAllows('read', 'write'));
  assert.not.ok(roleAllows('write', 'admin'));
});

test.run();
