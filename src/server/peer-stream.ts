import type { IncomingMessage, ServerResponse } from 'node:http';
import { ShmemError } from '../errors.js';
import { LineSplitter, NDJSON } from '../transport/ndjson.js';
import { isStreamRequest, type StreamAnswer, type StreamRequest } from '../transport/wire.js';
import type { NodeApi } from './node-api.js';

/** Told about an unexpected error while answering (logged by the server). */
export type OnUnexpected = (err: unknown) => void;

/**
 * Answers one peer stream (wire.ts): reads request lines as they arrive and writes each
 * answer line as soon as it is ready, queries at once, updates once durable. Answers made
 * in the same turn of the event loop leave in one write (cork until the next tick).
 *
 * A line that is not a valid request ends the stream with an `id: null` error line: the
 * sender is broken or hostile, and nothing it sent after that is applied.
 */
export function servePeerStream(req: IncomingMessage, res: ServerResponse, node: NodeApi, onUnexpected: OnUnexpected): void {
  const lines = new LineSplitter(node.peerBodyBytesMax);
  let updatesPending = 0;
  let requestEnded = false;
  let finished = false;
  let corked = false;

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
  const stop = (message: string): void => {
    send({ id: null, error: { code: 'bad_request', message } });
    finish();
    req.resume(); // discard the rest; the sender's request ends or times out
  };

  const handle = (request: StreamRequest): void => {
    if (request.op === 'ping') {
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
      if (!isStreamRequest(parsed)) {
        stop('malformed peer stream request');
        return;
      }
      handle(parsed);
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
