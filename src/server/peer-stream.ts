import type { IncomingMessage, ServerResponse } from 'node:http';
import { ShmemError } from '../errors.js';
import { LineSplitter, NDJSON } from '../transport/ndjson.js';
import { limits } from '../core/limits.js';
import { parseStreamRequest, type RefusalReason, type StreamAnswer, type StreamRequest } from '../transport/wire.js';
import type { NodeApi } from './node-api.js';

/** Told about an unexpected error while answering (logged by the server). */
export type OnUnexpected = (err: unknown) => void;
/** Told about peer input refused by the checks of wire.ts (counted and logged by the node). */
export type OnRefused = (reason: RefusalReason, message: string) => void;

/**
 * Answers one peer stream (wire.ts): reads request lines as they arrive and writes each
 * answer line as soon as it is ready, queries at once, updates once durable. Answers made
 * in the same turn of the event loop leave in one write (cork until the next tick).
 *
 * A line that is not a valid request (wire.ts parseStreamRequest: shapes, batch sizes, tags,
 * null values, value sizes), or more than limits.peerPingsPerSecondMax heartbeats in a
 * second, ends the stream with an `id: null` error line naming the problem: the sender is
 * broken or hostile, and nothing of that line or after it is applied.
 */
export function servePeerStream(req: IncomingMessage, res: ServerResponse, node: NodeApi, onUnexpected: OnUnexpected, onRefused: OnRefused): void {
  const lines = new LineSplitter(node.peerBodyBytesMax);
  let updatesPending = 0;
  let requestEnded = false;
  let finished = false;
  let corked = false;
  let pingWindowStartMs = 0;
  let pingsInWindow = 0;

  res.writeHead(200, { 'content-type': NDJSON });
  res.flushHeaders();
  req.setEncoding('utf8');

  const send = (answer: StreamAnswer): void => {
    if (finished) return;
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        if (!corked) return;
        corked = false;
        res.uncork();
      });
    }
    res.write(JSON.stringify(answer) + '\n');
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (corked) {
      corked = false;
      res.uncork(); // end() does not flush corked writes on its own
    }
    res.end();
  };
  const finishIfDone = (): void => {
    if (requestEnded && updatesPending === 0) finish();
  };
  const stop = (message: string, reason: RefusalReason = 'malformed'): void => {
    onRefused(reason, message);
    send({ id: null, error: { code: 'bad_request', message } });
    finish();
    req.resume(); // discard the rest; the sender's request ends or times out
  };

  const handle = (request: StreamRequest): void => {
    if (request.op === 'ping') {
      const now = Date.now();
      if (now - pingWindowStartMs >= 1000) {
        pingWindowStartMs = now;
        pingsInWindow = 0;
      }
      if (++pingsInWindow > limits.peerPingsPerSecondMax) {
        stop(`more than ${limits.peerPingsPerSecondMax} pings in one second`, 'ping_flood');
        return;
      }
      send({ id: request.id, ping: node.ping() });
      return;
    }
    if (request.op === 'query') {
      try {
        send({ id: request.id, items: node.query(request.addrs) });
      } catch (err) {
        send({ id: request.id, error: errorOf(err, onUnexpected) });
      }
      return;
    }
    updatesPending += 1;
    node.update(request.items).then(
      () => send({ id: request.id, acked: request.items.length }),
      (err: unknown) => send({ id: request.id, error: errorOf(err, onUnexpected) }),
    ).finally(() => {
      updatesPending -= 1;
      finishIfDone();
    });
  };

  req.on('data', (chunk: string) => {
    if (finished) return;
    let batch: string[];
    try {
      batch = lines.push(chunk);
    } catch (err) {
      stop((err as Error).message);
      return;
    }
    for (const line of batch) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        stop(`a stream line is not valid JSON: ${(err as Error).message}`);
        return;
      }
      const checked = parseStreamRequest(parsed, node.valueBytesMax);
      if (!checked.ok) {
        stop(`refused peer request: ${checked.message}`, checked.reason);
        return;
      }
      handle(checked.request);
      if (finished) return;
    }
  });
  req.on('end', () => {
    requestEnded = true;
    if (lines.partial) stop('the stream ended in the middle of a line');
    else finishIfDone();
  });
  res.on('close', () => {
    finished = true; // the sender went away: answers have nowhere to go
  });
}

function errorOf(err: unknown, onUnexpected: OnUnexpected): { code: string; message: string } {
  if (err instanceof ShmemError) return { code: err.code, message: err.message };
  onUnexpected(err);
  return { code: 'internal', message: 'internal error; see the node log' };
}
