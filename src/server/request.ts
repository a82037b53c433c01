import type { IncomingMessage, ServerResponse } from 'node:http';
import { limits } from '../core/limits.js';
import { BadInputError, OverloadedError } from '../errors.js';
import type { BodyBudget } from './body-budget.js';

/** Strict UTF-8: invalid bytes are an error, not U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON body, enforcing the content type, a byte limit, the node-wide
 * budget of large bodies (reserved until `res` closes, so the value it carries stays counted
 * while its operation runs) and a stall bound (a body that stops arriving for
 * limits.bodyStallMs is cut off). Rejects with BadInputError (bad_content_type,
 * body_too_large, bad_json, invalid_value) or OverloadedError.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, budget: BodyBudget): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new BadInputError('bad_content_type', `content type must be application/json, got "${type.slice(0, 60) || 'none'}"`);
  }
  const declaredText = req.headers['content-length'];
  const declared = declaredText === undefined ? undefined : Number(declaredText);
  if (declared !== undefined && declared > maxBytes) {
    req.resume();
    throw new BadInputError('body_too_large', `request body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  let release: (() => void) | undefined;
  const reserve = (bytes: number): void => {
    release = budget.tryReserve(bytes);
    if (release === undefined) {
      req.resume();
      throw new OverloadedError(`this node is holding ${budget.bytesReserved} bytes of large request bodies, the limit is ${budget.maxBytes}; retry shortly`, {
        hint: 'the CLI tries the next endpoint; a client should retry after a moment',
      });
    }
    res.once('close', release);
  };
  if (declared !== undefined && declared >= limits.largeBodyBytesMin) reserve(declared);

  const parts: Buffer[] = [];
  let size = 0;
  const stall = setTimeout(() => req.destroy(new Error('aborted: the request body stalled')), limits.bodyStallMs);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      stall.refresh();
      size += chunk.length;
      if (size > maxBytes) {
        req.resume();
        throw new BadInputError('body_too_large', `request body exceeds the limit of ${maxBytes} bytes`);
      }
      // A body without a declared length reserves the worst case once it turns out large.
      if (release === undefined && size >= limits.largeBodyBytesMin) reserve(maxBytes);
      parts.push(chunk);
    }
  } finally {
    clearTimeout(stall);
  }
  let text: string;
  try {
    text = UTF8.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
  } catch {
    // Decoding leniently would store U+FFFD in place of the bytes the client sent.
    throw new BadInputError('invalid_value', 'the request body is not valid UTF-8: values must be UTF-8 text');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadInputError('bad_json', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}
