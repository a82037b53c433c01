import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter, LineTooLongError } from '../../src/transport/ndjson.js';

const test = suite('ndjson line splitter');

test('lines come out whole whatever the chunk edges', () => {
  const s = new LineSplitter(100);
  assert.equal(s.push('{"a":'), []);
  assert.ok(s.partial);
  assert.equal(s.push('1}\n{"b":2}\n{"c"'), ['{"a":1}', '{"b":2}']);
  assert.equal(s.push(':3}\n'), ['{"c":3}']);
  assert.not.ok(s.partial);
});

test('every way of cutting a text gives the same lines', () => {
  const text = '{"id":1}\n{"id":22,"v":"é"}\n\n{"id":333}\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const s = new LineSplitter(100);
    assert.equal([...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))], ['{"id":1}', '{"id":22,"v":"é"}', '', '{"id":333}'], `cut at ${cut}`);
  }
});

test('a line longer than the bound is refused, even before its newline', () => {
  const s = new LineSplitter(10);
  assert.equal(s.push('0123456789\n'), ['0123456789']);
  assert.throws(() => s.push('0123456789A'), (e: unknown) => e instanceof LineTooLongError && /limit of 10/.test((e as Error).message));
});

test.run();
