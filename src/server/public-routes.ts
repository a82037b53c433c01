import { isAddr, parseAddrText } from '../core/addr.js';
import type { Addr } from '../core/types.js';
import { BadInputError } from '../errors.js';
import { sendJson } from './http-errors.js';
import type { BodyBudget } from './body-budget.js';
import type { NodeApi } from './node-api.js';
import { readJsonBody } from './request.js';
import type { Route } from './router.js';

/** The public client API (SPEC section 3): GET /read/{addr}, POST /write. */
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
  ];
}

function parseWrite(body: unknown, valueBytesMax: number): { addr: Addr; value: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('bad_request', 'body must be a JSON object {"addr": <integer>, "value": <string>}');
  }
  const { addr, value } = body as Record<string, unknown>;
  if (!isAddr(addr)) {
    throw new BadInputError('invalid_addr', `"addr" must be a non-negative safe integer, got ${describe(addr)}`);
  }
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
