import type { IncomingMessage } from 'node:http';
import { BadInputError } from '../errors.js';

/** Strict UTF-8: invalid bytes are an error, not U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON body, enforcing the content type and a byte limit.
 * Rejects with BadInputError (bad_content_type, body_too_large, bad_json).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new BadInputError('bad_content_type', `content type must be application/json, got "${type || 'none'}"`);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new BadInputError('body_too_large', `request body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw new BadInputError('body_too_large', `request body exceeds the limit of ${maxBytes} bytes`);
    }
    parts.push(chunk);
  }
  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(parts));
  } catch {
    // Decoding leniently would store U+FFFD in place of the bytes the client sent.
    throw new BadInputError('invalid_value', 'the request body is not valid UTF-8: values must be UTF-8 text');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadInputError('bad_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
