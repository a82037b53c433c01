import type { IncomingMessage, ServerResponse } from 'node:http';
import { limits } from '../core/limits.js';
import type { ValueWant } from '../core/types.js';
import { ConfigStateError, ShmemError } from '../errors.js';
import { FRAMES, FrameDecoder, FrameError, writeFrames, type EncodedFrame, type Frame } from '../transport/frames.js';
import { encodeAnswer, encodeQueryAnswer, parseStreamRequest, type RefusalReason, type StreamRequest } from '../transport/wire.js';
import type { NodeApi } from './node-api.js';

/** Told about an unexpected error while answering (logged by the server). */
export type OnUnexpected = (err: unknown) => void;
/** Told about peer input refused by the checks of wire.ts (counted and logged by the node). */
export type OnRefused = (reason: RefusalReason, message: string) => void;

/**
 * Answers one peer stream (wire.ts): reads request frames as they arrive and writes each
 * answer as soon as it is ready, queries at once, updates once durable. Answers made in the
 * same turn of the event loop leave in one write.
 *
 * Bounded (docs/flow-control.md): a header over limits.frameHeaderBytesMax or raw bytes over
 * the value bound are refused before they are read; the stream stops reading (TCP
 * backpressure reaches the sender) while its unsent answers exceed
 * limits.servedAnswerBufferBytesMax or its uncommitted update values exceed
 * limits.servedPendingUpdateBytesMax; a partial frame that makes no progress for
 * limits.servedFrameStallMs ends the stream; query answers carry at most the values budget
 * the request names (the rest deferred).
 *
 * A frame that is not a valid request (wire.ts parseStreamRequest: shapes, batch sizes, tags,
 * null values, value sizes), or more than limits.peerPingsPerSecondMax heartbeats in a
 * second, ends the stream with an `id: null` error naming the problem: the sender is broken
 * or hostile, and nothing of that frame or after it is applied.
 */
export function servePeerStream(req: IncomingMessage, res: ServerResponse, node: NodeApi, onUnexpected: OnUnexpected, onRefused: OnRefused): void {
  const frames = new FrameDecoder({
    headerBytesMax: limits.frameHeaderBytesMax,
    rawBytesMax: Math.max(node.valueBytesMax, limits.batchValueBytesMax),
  });
  let updatesPending = 0;
  let updateBytesPending = 0;
  let requestEnded = false;
  let finished = false;
  let flushScheduled = false;
  let paused = false;
  let pingWindowStartMs = 0;
  let pingsInWindow = 0;
  let stallTimer: NodeJS.Timeout | undefined;

  res.writeHead(200, { 'content-type': FRAMES });
  res.flushHeaders();

  // Answers made in one turn of the event loop leave in one write (one HTTP chunk).
  let outgoing: EncodedFrame[] = [];
  let outgoingBytes = 0;
  const flush = (): void => {
    flushScheduled = false;
    if (outgoing.length === 0 || finished) return;
    const frames = outgoing;
    outgoing = [];
    outgoingBytes = 0;
    // Written without filling the socket's buffer: go on with the backlog now; else at 'drain'.
    if (writeFrames(res, frames) && (paused || backlog.length > 0)) pump();
  };
  const send = (frame: EncodedFrame): void => {
    if (finished) return;
    outgoing.push(frame);
    outgoingBytes += frame.bytes;
    if (flushScheduled) return;
    flushScheduled = true;
    process.nextTick(flush);
  };
  const finish = (): void => {
    if (finished) return;
    flush();
    finished = true;
    if (stallTimer) clearTimeout(stallTimer);
    res.end();
  };
  const finishIfDone = (): void => {
    if (requestEnded && updatesPending === 0 && backlog.length === 0) finish();
  };
  const stop = (message: string, reason: RefusalReason = 'malformed'): void => {
    onRefused(reason, message);
    backlog.length = 0;
    send(encodeAnswer({ id: null, error: { code: 'bad_request', message } }));
    finish();
    req.resume(); // discard the rest; the sender's request ends or times out
  };

  /** Frames read and not handled yet: handled only while answers and commits keep up. */
  const backlog: Frame[] = [];
  const behind = (): boolean => outgoingBytes + res.writableLength > limits.servedAnswerBufferBytesMax
    || updateBytesPending > limits.servedPendingUpdateBytesMax;
  /**
   * Handles what was read, one frame at a time, and stops as soon as the answers or commits
   * fall behind: the rest waits in the backlog and the stream stops reading (TCP backpressure
   * reaches the sender) until they drain. So one chunk of many frames costs one budget, not all.
   */
  const pump = (): void => {
    while (!finished && backlog.length > 0 && !behind()) {
      const checked = parseStreamRequest(backlog.shift()!, node.valueBytesMax);
      if (!checked.ok) {
        stop(`refused peer request: ${checked.message}`, checked.reason);
        return;
      }
      handle(checked.request);
    }
    if (finished) return;
    const hold = backlog.length > 0 || behind();
    if (hold && !paused) {
      paused = true;
      req.pause();
    } else if (!hold && paused) {
      paused = false;
      req.resume();
    }
    watchStall();
    finishIfDone();
  };
  /** A sender that stops in the middle of a frame holds its bytes here: not for long (unless we paused it). */
  const watchStall = (): void => {
    if (stallTimer) clearTimeout(stallTimer);
    stallTimer = !paused && frames.partial
      ? setTimeout(() => stop(`a frame made no progress for ${limits.servedFrameStallMs} ms`), limits.servedFrameStallMs)
      : undefined;
  };
  res.on('drain', pump);

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
      send(encodeAnswer({ id: request.id, ping: node.ping() }));
      return;
    }
    if (request.op === 'query') {
      const want: ValueWant = { values: request.values, budgetBytes: request.budget, oversize: request.oversize };
      try {
        send(encodeQueryAnswer(request.id, node.query(request.addrs, want, request.cfg), request.values));
      } catch (err) {
        send(encodeAnswer({ id: request.id, error: errorOf(err, onUnexpected) }));
      }
      return;
    }
    if (request.op === 'rmw') {
      updatesPending += 1;
      node.acceptRmw(request.messages, request.cfg, true).then(
        (answers) => send(encodeAnswer({ id: request.id, rmw: answers })),
        (err: unknown) => send(encodeAnswer({ id: request.id, error: errorOf(err, onUnexpected) })),
      ).finally(() => {
        updatesPending -= 1;
        process.nextTick(pump);
      });
      return;
    }
    updatesPending += 1;
    updateBytesPending += request.valueBytes;
    node.update(request.items, request.cfg).then(
      () => send(encodeAnswer({ id: request.id, acked: request.items.length })),
      (err: unknown) => send(encodeAnswer({ id: request.id, error: errorOf(err, onUnexpected) })),
    ).finally(() => {
      updatesPending -= 1;
      updateBytesPending -= request.valueBytes;
      // The answer is queued for the next tick: pump once it has been written.
      process.nextTick(pump);
    });
  };

  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    try {
      backlog.push(...frames.push(chunk));
    } catch (err) {
      const e = err as FrameError;
      stop(e.message, e.reason);
      return;
    }
    pump();
  });
  req.on('end', () => {
    requestEnded = true;
    if (frames.partial) stop('the stream ended in the middle of a frame');
    else finishIfDone();
  });
  res.on('close', () => {
    finished = true; // the sender went away: answers have nowhere to go
    backlog.length = 0;
    if (stallTimer) clearTimeout(stallTimer);
  });
}

function errorOf(err: unknown, onUnexpected: OnUnexpected): { code: string; message: string; state?: unknown } {
  if (err instanceof ConfigStateError && err.state !== undefined) return { code: err.code, message: err.message, state: err.state };
  if (err instanceof ShmemError) return { code: err.code, message: err.message };
  onUnexpected(err);
  return { code: 'internal', message: 'internal error; see the node log' };
}
