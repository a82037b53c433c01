import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ERROR_CODES } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { ROOT } from './helpers/cluster.js';

const test = suite('catalog');

test('every error code is documented in the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = ERROR_CODES.filter((code) => !readme.includes(`\`${code}\``));
  assert.equal(missing, [], `undocumented codes: ${missing.join(', ')}`);
});

test('the version constant matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(VERSION, pkg.version);
});

test.run();
