import { ShmemClient } from '../client/shmem-client.js';
import { parseAddrText } from '../core/addr.js';
import { limits } from '../core/limits.js';
import { formatTag, parseTag } from '../core/tag.js';
import type { Tag, Value } from '../core/types.js';
import { clientOptions, type ClientFlags } from './client-flags.js';
import { UsageError } from './report.js';

/**
 * What `shmem read` and `shmem write` do, once their command line is parsed (by oclif, or by
 * the fast path for the common case): one implementation for both.
 */

/**
 * node:fs as CommonJS (fast.ts imports this module): `import … from 'node:fs'` makes Node's ESM
 * wrapper read every export of fs, ~4 ms of every CLI call.
 */
const { closeSync, openSync, readSync, writeFileSync } = process.getBuiltinModule('node:fs');

/** Strict UTF-8: a value read from a file or stdin is stored exactly as given, or refused. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface ReadInput {
  readonly addr: string;
  /** Write the value, exactly, to this file instead of printing it. */
  readonly output?: string | undefined;
}

export async function runRead(input: ReadInput, flags: ClientFlags): Promise<void> {
  const addr = parseAddr(input.addr);
  const client = new ShmemClient(clientOptions(flags));
  try {
    const r = await client.read(addr);
    if (input.output !== undefined && r.value !== null) writeFileSync(input.output, r.value, { mode: 0o600 });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ addr: r.addr, value: input.output === undefined ? r.value : undefined, tag: r.tag, endpoint: r.endpoint, ...(input.output ? { output: input.output } : {}) })}\n`);
    } else if (r.value === null) {
      process.stderr.write(`address ${r.addr} has never been written${input.output ? `; ${input.output} was not written` : ''}\n`);
    } else if (input.output === undefined) {
      process.stdout.write(`${r.value}\n`);
      if (process.stderr.isTTY) process.stderr.write(`(tag ${formatTag(r.tag)} via ${r.endpoint})\n`);
    } else {
      process.stderr.write(`ok: wrote the value of address ${r.addr} (${Buffer.byteLength(r.value)} bytes, tag ${formatTag(r.tag)}) to ${input.output}\n`);
    }
  } finally {
    client.close();
  }
}

export interface WriteInput {
  readonly addr: string;
  /** The value itself, or "-" for standard input read to its end. */
  readonly value?: string | undefined;
  /** Read the value from this file instead. */
  readonly file?: string | undefined;
}

export async function runWrite(input: WriteInput, flags: ClientFlags): Promise<void> {
  const addr = parseAddr(input.addr);
  const value = await writeValue(input);
  const client = new ShmemClient(clientOptions(flags));
  try {
    const r = await client.write(addr, value);
    if (flags.json) process.stdout.write(`${JSON.stringify({ addr: r.addr, tag: r.tag, endpoint: r.endpoint })}\n`);
    else process.stdout.write(`ok: wrote address ${r.addr} (tag ${formatTag(r.tag)} via ${r.endpoint})\n`);
  } finally {
    client.close();
  }
}

export interface CasInput {
  readonly addr: string;
  /** The positional arguments after ADDR: EXPECT and VALUE, or VALUE alone with --expect-absent or --expect-tag. */
  readonly args: readonly (string | undefined)[];
  readonly expectAbsent?: boolean | undefined;
  readonly expectTag?: string | undefined;
  readonly file?: string | undefined;
}

/** `shmem cas`: exit 0 when it swapped, 1 with the current value printed when it did not (report.ts prints refusals), 3 when unknown. */
export async function runCas(input: CasInput, flags: ClientFlags): Promise<void> {
  const addr = parseAddr(input.addr);
  const [first, second] = input.args;
  if (input.expectAbsent && input.expectTag !== undefined) throw new UsageError('give --expect-absent or --expect-tag, not both');
  let expect: { value: Value } | { tag: Tag };
  let valueArg: string | undefined;
  if (input.expectAbsent || input.expectTag !== undefined) {
    if (second !== undefined) throw new UsageError(`with ${input.expectAbsent ? '--expect-absent' : '--expect-tag'} give ADDR and VALUE only, not an EXPECT value as well`);
    valueArg = first;
    if (input.expectTag !== undefined) {
      const tag = parseTag(input.expectTag);
      if (tag === null) throw new UsageError(`--expect-tag ${JSON.stringify(input.expectTag.slice(0, 60))} is not a tag as read prints it: SEQ@WRITER (e.g. 7@5f2c9a1e.1, or 7@5f2c9a1e.1+2)`);
      expect = { tag };
    } else {
      expect = { value: null };
    }
  } else {
    if (first === undefined) throw new UsageError('no EXPECT value: give ADDR EXPECT VALUE, or --expect-absent or --expect-tag SEQ@WRITER');
    expect = { value: first };
    valueArg = second;
  }
  const value = await writeValue({ addr: input.addr, value: valueArg, file: input.file });
  const client = new ShmemClient(clientOptions(flags));
  try {
    const r = await client.cas(addr, expect, value);
    if (flags.json) process.stdout.write(`${JSON.stringify({ addr: r.addr, ok: true, tag: r.tag, endpoint: r.endpoint })}
`);
    else process.stdout.write(`ok: swapped address ${r.addr} (tag ${formatTag(r.tag)} via ${r.endpoint})
`);
  } finally {
    client.close();
  }
}

export interface AddInput {
  readonly addr: string;
  readonly delta?: string | undefined;
}

/** `shmem add`: prints the new value; a refusal exits 1 with the current value printed. */
export async function runAdd(input: AddInput, flags: ClientFlags): Promise<void> {
  const addr = parseAddr(input.addr);
  const text = input.delta ?? '1';
  const delta = Number(text);
  if (!/^[+-]?[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(delta)) throw new UsageError(`DELTA must be an integer within ±(2^53−1), got ${JSON.stringify(text.slice(0, 40))}`);
  const client = new ShmemClient(clientOptions(flags));
  try {
    const r = await client.add(addr, delta);
    if (flags.json) process.stdout.write(`${JSON.stringify({ addr: r.addr, value: r.value, tag: r.tag, endpoint: r.endpoint })}
`);
    else {
      process.stdout.write(`${r.value}\n`);
      if (process.stderr.isTTY) process.stderr.write(`(tag ${formatTag(r.tag)} via ${r.endpoint})\n`);
    }
  } finally {
    client.close();
  }
}

function parseAddr(text: string): number {
  const parsed = parseAddrText(text);
  if (!parsed.ok) throw new UsageError(parsed.message);
  return parsed.addr;
}

/**
 * The value to write, from exactly one source: the argument, "-" (standard input, read to
 * its end), or --file. Anything else is refused rather than guessed: a prefix of a pipe must
 * never be stored as if it were the whole value.
 */
async function writeValue(input: WriteInput): Promise<string> {
  if (input.value !== undefined && input.file !== undefined) throw new UsageError('give the value as an argument, as - (standard input) or with --file, not two of them');
  if (input.file !== undefined) return decodeValue(readFileBounded(input.file), `--file ${input.file}`);
  if (input.value === '-') return decodeValue(await readStdinBounded(), 'standard input');
  if (input.value !== undefined) return input.value;
  throw new UsageError('no value: give VALUE, - to read standard input to its end, or --file PATH');
}

function tooLarge(what: string): UsageError {
  return new UsageError(`${what} holds more than ${limits.valueBytesMax} bytes, more than any node accepts as a value`);
}

/** A whole file (or device, e.g. /dev/stdin), bounded by the largest value any node may accept. */
function readFileBounded(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new UsageError(`--file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const parts: Buffer[] = [];
    let size = 0;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      size += n;
      if (size > limits.valueBytesMax) throw tooLarge(`--file ${path}`);
      parts.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(parts, size);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

/** Standard input to its end (however slowly it arrives), bounded like a file. */
async function readStdinBounded(): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.valueBytesMax) throw tooLarge('standard input');
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

function decodeValue(bytes: Buffer, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new UsageError(`${what} is not valid UTF-8: a value is UTF-8 text`);
  }
}
