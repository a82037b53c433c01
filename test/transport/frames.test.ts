import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, FrameError, encodeFrame, type Frame } from '../../src/transport/frames.js';
import { encodeQueryAnswer, encodeRequest, parseStreamAnswer, parseStreamRequest } from '../../src/transport/wire.js';

const test = suite('peer stream frames');
const bounds = { headerBytesMax: 100, rawBytesMax: 1000 };
const bytesOf = (f: ReturnType<typeof encodeFrame>): Buffer => Buffer.concat([Buffer.from(f.line), ...f.raw]);

test('frames come out whole whatever the chunk edges: header lines and raw bytes', () => {
  const stream = Buffer.concat([
    bytesOf(encodeFrame({ id: 1 })),
    bytesOf(encodeFrame({ id: 2 }, [Buffer.from('héllo\nworld')])),
    bytesOf(encodeFrame({ id: 3, v: 'é' })),
  ]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder(bounds);
    const frames: Frame[] = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.equal(frames.map((f) => f.header), [{ id: 1 }, { id: 2, raw: 12 }, { id: 3, v: 'é' }], `cut at ${cut}`);
    assert.is(frames[1]!.raw.toString('utf8'), 'héllo\nworld', 'a newline inside raw bytes is data');
    assert.not.ok(d.partial);
  }
});

test('a header over the bound is refused before its newline arrives, one byte at a time too', () => {
  const d = new FrameDecoder(bounds);
  assert.throws(() => d.push(Buffer.alloc(101, 0x61)), (e: unknown) => e instanceof FrameError && e.reason === 'frame_too_large');
  const slow = new FrameDecoder(bounds);
  let err: unknown;
  for (let i = 0; i < 200 && err === undefined; i++) {
    try {
      slow.push(Buffer.from('a'));
    } catch (e) {
      err = e;
    }
  }
  assert.instance(err, FrameError);
});

test('announced raw bytes over the bound, bad JSON and invalid UTF-8 are refused, naming the problem', () => {
  assert.throws(() => new FrameDecoder(bounds).push(Buffer.from('{"raw":1001}\n')), /1001 raw bytes, over the limit of 1000/);
  assert.throws(() => new FrameDecoder(bounds).push(Buffer.from('{"raw":-1}\n')), /non-negative integer/);
  assert.throws(() => new FrameDecoder(bounds).push(Buffer.from('{"id":\n')), /not valid JSON/);
  assert.throws(() => new FrameDecoder(bounds).push(Buffer.from([0x7b, 0xff, 0x7d, 0x0a])), /not valid UTF-8/);
});

test('a long line costs its length once (linear): 32 MiB in 64 KiB chunks is refused at the bound quickly', () => {
  const d = new FrameDecoder({ headerBytesMax: 1024 * 1024, rawBytesMax: 0 });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let pushed = 0;
  assert.throws(() => {
    for (; pushed < 512; pushed++) d.push(chunk);
  }, /exceeds the limit of 1048576/);
  assert.is(pushed, 16, 'refused at the 17th chunk, not after reading everything');
});

test('update values: short ones inline, long ones raw; decoded back exactly, whatever their characters', () => {
  const long = '\u0001'.repeat(5000) + '☃';
  const frame = encodeRequest(7, { op: 'update', items: [{ addr: 1, tag: { seq: 1, writer: 'aaaaaaaa.1' }, value: 'short' }, { addr: 2, tag: { seq: 2, writer: 'aaaaaaaa.1' }, value: long }] });
  assert.is(frame.raw.length, 1);
  assert.is(frame.raw[0]!.length, Buffer.byteLength(long), 'raw: the value costs its UTF-8 size, not 6 bytes per control character');
  const [decoded] = new FrameDecoder({ headerBytesMax: 1 << 20, rawBytesMax: 1 << 20 }).push(bytesOf(frame));
  const parsed = parseStreamRequest(decoded!, 1 << 20);
  assert.ok(parsed.ok);
  assert.equal(parsed.ok && parsed.request.op === 'update' && parsed.request.items.map((i) => i.value), ['short', long]);
});

test('raw bytes that do not match the items, or invalid UTF-8 in a raw value, are refused', () => {
  const tag = { seq: 1, writer: 'aaaaaaaa.1' };
  const mismatch = { header: { id: 1, op: 'update', items: [{ addr: 1, tag, bytes: 5 }], raw: 4 }, raw: Buffer.from('abcd') };
  assert.equal(parseStreamRequest(mismatch, 100), { ok: false, reason: 'malformed', message: 'address 1: "bytes" does not match the frame\'s raw bytes' });
  const leftover = { header: { id: 1, op: 'update', items: [{ addr: 1, tag, bytes: 2 }], raw: 4 }, raw: Buffer.from('abcd') };
  assert.equal(parseStreamRequest(leftover, 100).ok, false);
  const badUtf8 = { header: { id: 1, op: 'update', items: [{ addr: 1, tag, bytes: 2 }], raw: 2 }, raw: Buffer.from([0xc3, 0x28]) };
  assert.match(JSON.stringify(parseStreamRequest(badUtf8, 100)), /not valid UTF-8/);
  const tooBig = { header: { id: 1, op: 'update', items: [{ addr: 1, tag, bytes: 101 }], raw: 101 }, raw: Buffer.alloc(101, 0x61) };
  assert.equal(parseStreamRequest(tooBig, 100), { ok: false, reason: 'value_too_large', message: 'address 1: a value of 101 bytes is over the limit of 100' });
});

test('query answers: values, deferred sizes and unavailable addresses round-trip; an answer lacking an asked value is malformed', () => {
  const tag = { seq: 3, writer: 'aaaaaaaa.1' };
  const long = 'L'.repeat(1000);
  const frame = encodeQueryAnswer(4, [{ tag, value: 'v' }, { tag, value: long }, { tag, deferredBytes: 99 }, { unavailable: 'damaged' }], true);
  const [decoded] = new FrameDecoder({ headerBytesMax: 1 << 20, rawBytesMax: 1 << 20 }).push(bytesOf(frame));
  assert.equal(parseStreamAnswer(decoded!, { items: 4, values: true }), {
    id: 4, items: [{ tag, value: 'v' }, { tag, value: long }, { tag, deferredBytes: 99 }, { unavailable: 'damaged' }],
  });
  const tagsOnly = { header: { id: 5, items: [{ tag }] }, raw: Buffer.alloc(0) };
  assert.equal(parseStreamAnswer(tagsOnly, { items: 1, values: false }), { id: 5, items: [{ tag, value: null }] });
  assert.type(parseStreamAnswer(tagsOnly, { items: 1, values: true }), 'string');
  assert.type(parseStreamAnswer(tagsOnly, { items: 2, values: false }), 'string');
});

test('a damaged value travels as its tag and "lost", with no value; a "lost" item that carries a value is malformed', () => {
  const tag = { seq: 3, writer: 'aaaaaaaa.1' };
  for (const values of [true, false]) {
    const frame = encodeQueryAnswer(6, [{ tag, lost: 'damaged' }, { tag, value: 'v' }], values);
    const [decoded] = new FrameDecoder({ headerBytesMax: 1 << 20, rawBytesMax: 1 << 20 }).push(bytesOf(frame));
    assert.equal(parseStreamAnswer(decoded!, { items: 2, values }), { id: 6, items: [{ tag, lost: 'damaged' }, { tag, value: values ? 'v' : null }] });
  }
  const forged = { header: { id: 7, items: [{ tag, lost: 'damaged', value: 'sneaked in' }] }, raw: Buffer.alloc(0) };
  assert.equal(parseStreamAnswer(forged, { items: 1, values: true }), 'a lost value carries a value');
  const badTag = { header: { id: 8, items: [{ tag: { seq: -1, writer: 'x' }, lost: 'damaged' }] }, raw: Buffer.alloc(0) };
  assert.type(parseStreamAnswer(badTag, { items: 1, values: true }), 'string');
});

test.run();
