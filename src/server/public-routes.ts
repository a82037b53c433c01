import { isAddr, parseAddrText } from '../core/addr.js';
import type { RmwChange } from '../core/rmw.js';
import type { Addr, Tag } from '../core/types.js';
import { isTag } from '../transport/wire.js';
import { BadInputError } from '../errors.js';
import { sendJson } from './http-errors.js';
import type { BodyBudget } from './body-budget.js';
import type { NodeApi } from './node-api.js';
import { readJsonBody } from './request.js';
import type { Route } from './router.js';

/** The public client API (SPEC section 3): GET /read/{addr}, POST /write, and compare-and-set and add (docs/rmw.md). */
export function publicRoutes(node: NodeApi, bodies: BodyBudget): Route[] {
  // JSON escapes can make a value's body up to 6x its UTF-8 size.
  const writeBodyBytesMax = node.valueBytesMax * 6 + 1024;
  return [
    {
      method: 'GET',
      pattern: /^\/read\/([^/]*)$/,
      access: { scope: 'client', role: 'read' },
      handler: async (_req, res, [addrText]) => {
        const parsed = parseAddrText(addrText ?? '');
        if (!parsed.ok) throw new BadInputError('invalid_addr', parsed.message);
        const r = await node.read(parsed.addr);
        sendJson(res, 200, { addr: r.addr, value: r.value, tag: r.tag });
      },
    },
    {
      method: 'POST',
      pattern: /^\/write\/?$/,
      access: { scope: 'client', role: 'write' },
      handler: async (req, res) => {
        const body = await readJsonBody(req, res, writeBodyBytesMax, bodies);
        const { addr, value } = parseWrite(body, node.valueBytesMax);
        const r = await node.write(addr, value);
        sendJson(res, 200, { addr: r.addr, tag: r.tag });
      },
    },
    {
      method: 'POST',
      pattern: /^\/cas\/?$/,
      access: { scope: 'client', role: 'write' },
      handler: async (req, res) => {
        // Two values (expected and new) in one body.
        const body = await readJsonBody(req, res, writeBodyBytesMax * 2, bodies);
        const { addr, change } = parseCas(body, node.valueBytesMax);
        const r = await node.rmw(addr, change);
        sendJson(res, 200, { addr: r.addr, ok: true, tag: r.tag });
      },
    },
    {
      method: 'POST',
      pattern: /^\/add\/?$/,
      access: { scope: 'client', role: 'write' },
      handler: async (req, res) => {
        const body = await readJsonBody(req, res, 1024, bodies);
        const { addr, change } = parseAdd(body);
        const r = await node.rmw(addr, change);
        sendJson(res, 200, { addr: r.addr, value: r.value, tag: r.tag });
      },
    },
  ];
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadInputError('bad_request', `body must be a JSON object ${shape}`);
  return body as Record<string, unknown>;
}

function parseAddrField(addr: unknown): Addr {
  if (!isAddr(addr)) throw new BadInputError('invalid_addr', `"addr" must be a non-negative safe integer, got ${describe(addr)}`);
  return addr;
}

const CAS_SHAPE = '{"addr": <integer>, "expect": <string or null>, "value": <string>} (or "expectTag": {"seq", "writer"} instead of "expect")';

/** POST /cas: `expect` (a string, or null: never written) or `expectTag` (a tag a read returned), never both. */
function parseCas(body: unknown, valueBytesMax: number): { addr: Addr; change: RmwChange } {
  const b = objectBody(body, CAS_SHAPE);
  const { addr, value } = parseWrite(b, valueBytesMax);
  const hasExpect = 'expect' in b;
  const hasTag = 'expectTag' in b;
  if (hasExpect === hasTag) {
    throw new BadInputError('bad_request', `give exactly one of "expect" and "expectTag", got ${hasExpect ? 'both' : 'neither'}: ${CAS_SHAPE}`);
  }
  if (hasTag) {
    const tag = b['expectTag'];
    if (!isTag(tag)) throw new BadInputError('bad_request', `"expectTag" must be a tag as reads return it, {"seq": <integer>, "writer": <string>} and "rmwc" when not 0, got ${describe(tag)}`);
    const { seq, writer, rmwc } = tag as Tag;
    return { addr, change: { kind: 'cas', expect: { tag: rmwc === undefined ? { seq, writer } : { seq, writer, rmwc } }, value } };
  }
  const expect = b['expect'];
  if (expect !== null && typeof expect !== 'string') throw new BadInputError('invalid_value', `"expect" must be a string or null (never written), got ${describe(expect)}`);
  if (expect !== null && !expect.isWellFormed()) throw new BadInputError('invalid_value', '"expect" is not well-formed Unicode: it holds a lone surrogate');
  return { addr, change: { kind: 'cas', expect: { value: expect }, value } };
}

/** POST /add: `delta`, a safe integer (negative subtracts). */
function parseAdd(body: unknown): { addr: Addr; change: RmwChange } {
  const b = objectBody(body, '{"addr": <integer>, "delta": <integer>}');
  const addr = parseAddrField(b['addr']);
  const delta = b['delta'];
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new BadInputError('bad_request', `"delta" must be an integer within ±(2^53−1), got ${describe(delta)}`);
  }
  return { addr, change: { kind: 'add', delta } };
}

function parseWrite(body: unknown, valueBytesMax: number): { addr: Addr; value: string } {
  const { addr: addrField, value } = objectBody(body, '{"addr": <integer>, "value": <string>}');
  const addr = parseAddrField(addrField);
  if (typeof value !== 'string') {
    throw new BadInputError('invalid_value', `"value" must be a string, got ${describe(value)}`);
  }
  // A lone surrogate (\ud800) cannot be stored as UTF-8: SQLite would keep U+FFFD instead,
  // and the value read back would differ from the one written.
  if (!value.isWellFormed()) {
    throw new BadInputError('invalid_value', '"value" is not well-formed Unicode: it holds a lone surrogate (\\ud800-\\udfff without its pair)');
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > valueBytesMax) {
    throw new BadInputError('value_too_large', `value is ${bytes} bytes, the limit is ${valueBytesMax}`, {
      hint: 'the limit is set with --value-bytes-max on every node',
    });
  }
  return { addr, value };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
