import type { Got } from 'got';
import { limits } from '../core/limits.js';
import { FRAMES, FrameDecoder, FrameError, writeFrames, type EncodedFrame } from './frames.js';
import { isRefusal, PeerAnswerError, PeerRefusedError } from './peer-link.js';
import { encodeRequest, parseStreamAnswer, PEER_PATHS, type AnswerExpectation, type StreamAnswer, type StreamRequestBody } from './wire.js';

interface Pending {
  readonly resolve: (answer: StreamAnswer) => void;
  readonly reject: (err: Error) => void;
  readonly expect: AnswerExpectation | undefined;
  readonly timer: NodeJS.Timeout | undefined;
}

/** What one stream needs to know: its member, its bounds and deadlines. */
export interface PeerStreamOptions {
  readonly member: string;
  /** The stream fails when requests are outstanding and nothing arrived for this long. */
  readonly progressDeadlineMs: number;
  /** Bounds on the answers' frames (their largest values). */
  readonly headerBytesMax: number;
  readonly rawBytesMax: number;
}

/**
 * One long-lived POST /peer/stream to one member (wire.ts): requests are written as frames
 * of the request body, answers arrive as frames of the response body, matched by id.
 *
 * Deadlines measure progress, not age (docs/flow-control.md): the stream fails when it has
 * requests outstanding and nothing has arrived for `progressDeadlineMs`; a stream delivering a
 * big answer is making progress. A request may carry a deadline of its own (heartbeats).
 *
 * Failure is all or nothing: a connection error, an unexpected end, a malformed answer or a
 * deadline kills the stream and rejects everything pending on it (the PeerChannel retries, on
 * a new stream). A stuck member therefore costs one deadline per stream, not one per request.
 */
export class PeerStream {
  readonly openedMs = Date.now();
  private readonly pending = new Map<number, Pending>();
  private readonly frames: FrameDecoder;
  private readonly request: ReturnType<Got['stream']>;
  private nextId = 1;
  private outgoing: EncodedFrame[] = [];
  private flushScheduled = false;
  private failure: Error | undefined;
  private ending = false;
  private status: number | undefined;
  private errorBody = '';
  private lastProgressMs = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(client: Got, private readonly options: PeerStreamOptions, private readonly onClosed: (s: PeerStream) => void) {
    this.frames = new FrameDecoder({ headerBytesMax: options.headerBytesMax, rawBytesMax: options.rawBytesMax });
    this.request = client.stream.post(PEER_PATHS.stream.slice(1), { headers: { 'content-type': FRAMES } });
    this.request.on('response', (res: { statusCode: number }) => (this.status = res.statusCode));
    this.request.on('data', (chunk: Buffer) => this.onData(chunk));
    this.request.on('end', () => this.onEnd());
    this.request.on('error', (err: Error) => this.fail(new Error(`stream to ${options.member} failed: ${err.message}`)));
  }

  /** False once the stream failed or was asked to end; new requests need a new stream. */
  get usable(): boolean {
    return this.failure === undefined && !this.ending;
  }

  /** Requests sent on this stream and not answered yet. */
  get outstanding(): number {
    return this.pending.size;
  }

  /**
   * Sends one request; resolves with its answer, rejects when the stream fails. With
   * `deadlineMs`, the stream also fails if this request is not answered within it.
   */
  call(body: StreamRequestBody, deadlineMs?: number): Promise<StreamAnswer> {
    if (!this.usable) return Promise.reject(this.failure ?? new Error(`stream to ${this.options.member} is ending`));
    const id = this.nextId++;
    if (this.pending.size === 0) this.lastProgressMs = Date.now();
    const expect = body.op === 'query' ? { items: body.addrs.length, values: body.values }
      : body.op === 'rmw' ? { items: 0, values: false, rmw: body.messages.length } : undefined;
    return new Promise<StreamAnswer>((resolve, reject) => {
      const timer = deadlineMs === undefined ? undefined
        : setTimeout(() => this.fail(new Error(`${this.options.member} did not answer within ${deadlineMs} ms`)), deadlineMs);
      this.pending.set(id, { resolve, reject, expect, timer });
      this.armWatchdog();
      this.write(encodeRequest(id, body));
    });
  }

  /** Ends the request body; answers still due keep arriving (for a bounded time), then the member ends too. */
  end(): void {
    if (this.ending || this.failure) return;
    this.ending = true;
    this.flush();
    this.request.end();
    if (this.pending.size === 0) {
      this.onClosed(this);
      return;
    }
    // A member that never answers must not keep old streams (and their requests) forever.
    this.drainTimer = setTimeout(() => this.fail(new Error(`${this.options.member} did not finish an ending stream within ${limits.peerStreamDrainMs} ms`)), limits.peerStreamDrainMs);
    this.drainTimer.unref();
  }

  /** Kills the stream now (shutdown); pending requests are rejected. */
  destroy(): void {
    this.fail(new Error(`stream to ${this.options.member} closed`));
  }

  /** Frames written in one turn of the event loop go out in one write. */
  private write(frame: EncodedFrame): void {
    this.outgoing.push(frame);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.failure) return;
    const frames = this.outgoing;
    this.outgoing = [];
    writeFrames(this.request, frames);
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) return;
    const check = (): void => {
      this.watchdog = undefined;
      if (this.failure || this.pending.size === 0) return;
      const silentMs = Date.now() - this.lastProgressMs;
      if (silentMs >= this.options.progressDeadlineMs) {
        this.fail(new Error(`${this.options.member} sent nothing for ${this.options.progressDeadlineMs} ms with ${this.pending.size} requests outstanding`));
        return;
      }
      this.watchdog = setTimeout(check, this.options.progressDeadlineMs - silentMs);
    };
    this.watchdog = setTimeout(check, this.options.progressDeadlineMs);
  }

  private onData(chunk: Buffer): void {
    this.lastProgressMs = Date.now();
    if (this.status !== 200) {
      if (this.errorBody.length < 4096) this.errorBody += chunk.toString('utf8', 0, Math.min(chunk.length, 4096));
      return;
    }
    let frames;
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      this.fail(new Error(`${this.options.member} sent a bad stream: ${(err as FrameError).message}`));
      return;
    }
    for (const frame of frames) {
      const id = (frame.header as { id?: unknown } | null)?.id;
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      const answer = parseStreamAnswer(frame, p?.expect);
      if (typeof answer === 'string') {
        if (p === undefined && typeof id === 'number') continue; // a late answer to a request that is gone
        this.fail(new Error(`${this.options.member} sent a malformed answer: ${answer}`));
        return;
      }
      if (answer.id === null) {
        this.fail(new Error(`${this.options.member} ended the stream: ${answer.error?.message ?? 'no reason given'}`));
        return;
      }
      if (!p) continue; // answered after its deadline killed nothing: a stale duplicate
      this.pending.delete(answer.id);
      if (p.timer) clearTimeout(p.timer);
      if (answer.error) p.reject(new PeerAnswerError(this.options.member, String(answer.error.code), String(answer.error.message).slice(0, 500), answer.error.state));
      else p.resolve(answer);
    }
    if (this.ending && this.pending.size === 0) this.closeEnded();
  }

  private onEnd(): void {
    if (this.status !== undefined && this.status !== 200) {
      this.fail(refusal(this.options.member, this.status, this.errorBody));
    } else if (this.pending.size > 0 || !this.ending) {
      this.fail(new Error(`${this.options.member} ended the stream`));
    }
    this.closeEnded();
  }

  private closeEnded(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.onClosed(this);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.request.destroy();
    this.closeEnded();
  }
}

/** The member refused the stream before it began (HTTP error with the error body). */
function refusal(member: string, status: number, text: string): Error {
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    // not JSON: report the status alone
  }
  if (isRefusal(status, error?.code)) return new PeerRefusedError(error?.message ?? `${member} refused this node (HTTP ${status})`);
  return new Error(`${member} answered HTTP ${status}${error?.message ? `: ${error.message}` : ''}`);
}
