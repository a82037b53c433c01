import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as errors from '../src/errors.js';
import { ERROR_CODES } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { reportError } from '../src/cli/report.js';
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

test('definite and indefinite failures: CLI exit 1 for "did not happen", 3 for "may still happen", and the codes a client may retry on', () => {
  const printed: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (printed.push(chunk), true)) as typeof process.stderr.write;
  try {
    assert.is(reportError(new errors.QuorumUnavailableError('no quorum'), false), 1);
    assert.is(reportError(new errors.OutcomeUnknownError('sent, then the deadline'), false), 3);
  } finally {
    process.stderr.write = write;
  }
  assert.match(printed.join(''), 'sent, then the deadline');
  assert.is(new errors.OutcomeUnknownError('x').httpStatus, 504, 'not 503: clients that fail over on 503 must not send it again');
  for (const code of ['quorum_unavailable', 'overloaded', 'shutting_down', 'invalid_value']) assert.ok(errors.isDefiniteFailure(code), code);
  for (const code of ['outcome_unknown', 'internal', undefined]) assert.not.ok(errors.isDefiniteFailure(code), String(code));
});

test('the version constant matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.is(VERSION, pkg.version);
});

test.run();
