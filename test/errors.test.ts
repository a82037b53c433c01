import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as errors from '../src/errors.js';
import { ERROR_CODES } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { ROOT } from './helpers/cluster.js';

const test = suite('catalog');

test('every error code is documented in the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = ERROR_CODES.filter((code) => !readme.includes(`\`${code}\``));
  assert.equal(missing, [], `undocumented codes: ${missing.join(', ')}`);
});

test('every error class of the catalog has its codes in ERROR_CODES', () => {
  const classes = Object.values(errors).filter((v): v is typeof errors.ShmemError & { codes: readonly string[] } =>
    typeof v === 'function' && v.prototype instanceof errors.ShmemError);
  assert.ok(classes.length >= 15, `${classes.length} classes`);
  for (const c of classes) {
    assert.ok(Array.isArray(c.codes), `${c.name} declares its codes`);
    for (const code of c.codes) assert.ok(errors.ERROR_CODES.includes(code), `${c.name}: ${code}`);
  }
});

test('the version constant matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(VERSION, pkg.version);
});

test.run();
