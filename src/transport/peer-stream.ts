import type { Got } from 'got';
import { LineSplitter, LineTooLongError, NDJSON } from './ndjson.js';
import { isRefusal, PeerRefusedError } from './peer-link.js';
import { PEER_PATHS, isStreamAnswer, type StreamAnswer, type StreamRequest } from './wire.js';

/** A request line before the stream gives it an id (the wire's StreamRequest, one per op). */
type StreamRequestBody = StreamRequest extends infer R ? (R extends StreamRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly resolve: (answer: StreamAnswer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One long-lived POST /peer/stream to one member (see wire.ts): requests are written as
 * lines of the request body, answers arrive as lines of the response body, matched by id.
 *
 * Failure is all or nothing: a connection error, an unexpected end, a malformed answer or
 * one request left unanswered past its deadline kills the stream and rejects everything
 * pending on it (the PeerChannel retries, on a new stream). A stuck member therefore costs
 * one deadline per stream, not one per request.
 */
export class PeerStream {
  readonly openedMs = Date.now();
  private readonly pending = new Map<number, Pending>();
  private readonly lines: LineSplitter;
  private readonly request: ReturnType<Got['stream']>;
  private nextId = 1;
  private outgoing = '';
  private flushScheduled = false;
  private failure: Error | undefined;
  private ending = false;
  private status: number | undefined;
  private errorBody = '';

  constructor(client: Got, private readonly member: string, maxLineChars: number, private readonly onClosed: (s: PeerStream) => void) {
    this.lines = new LineSplitter(maxLineChars);
    this.request = client.stream.post(PEER_PATHS.stream.slice(1), { headers: { 'content-type': NDJSON } });
    this.request.setEncoding('utf8');
    this.request.on('response', (res: { statusCode: number }) => (this.status = res.statusCode));
    this.request.on('data', (chunk: string) => this.onData(chunk));
    this.request.on('end', () => this.onEnd());
    this.request.on('error', (err: Error) => this.fail(new Error(`stream to ${member} failed: ${err.message}`)));
  }

  /** False once the stream failed or was asked to end; new requests need a new stream. */
  get usable(): boolean {
    return this.failure === undefined && !this.ending;
  }

  /** Sends one request; resolves with its answer line, rejects when the stream fails. */
  call(body: StreamRequestBody, deadlineMs: number): Promise<StreamAnswer> {
    if (!this.usable) return Promise.reject(this.failure ?? new Error(`stream to ${this.member} is ending`));
    const id = this.nextId++;
    return new Promise<StreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`${this.member} did not answer within ${deadlineMs} ms`)), deadlineMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write(JSON.stringify({ id, ...body }));
    });
  }

  /** Ends the request body; answers still due keep arriving, then the member ends too. */
  end(): void {
    if (this.ending || this.failure) return;
    this.ending = true;
    this.flush();
    this.request.end();
    if (this.pending.size === 0) this.onClosed(this);
  }

  /** Kills the stream now (shutdown); pending requests are rejected. */
  destroy(): void {
    this.fail(new Error(`stream to ${this.member} closed`));
  }

  /** Lines written in one turn of the event loop go out in one write. */
  private write(line: string): void {
    this.outgoing += line + '\n';
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing === '' || this.failure) return;
    this.request.write(this.outgoing);
    this.outgoing = '';
  }

  private onData(chunk: string): void {
    if (this.status !== 200) {
      this.errorBody += chunk.slice(0, 4096);
      return;
    }
    let lines: string[];
    try {
      lines = this.lines.push(chunk);
    } catch (err) {
      this.fail(new Error(`${this.member} sent a bad stream: ${(err as LineTooLongError).message}`));
      return;
    }
    for (const line of lines) {
      let answer: unknown;
      try {
        answer = JSON.parse(line);
      } catch {
        this.fail(new Error(`${this.member} sent a line that is not JSON`));
        return;
      }
      if (!isStreamAnswer(answer)) {
        this.fail(new Error(`${this.member} sent a malformed answer`));
        return;
      }
      if (answer.id === null) {
        this.fail(new Error(`${this.member} ended the stream: ${answer.error?.message ?? 'no reason given'}`));
        return;
      }
      const p = this.pending.get(answer.id);
      if (!p) continue; // answered after its deadline killed nothing: a stale duplicate
      this.pending.delete(answer.id);
      clearTimeout(p.timer);
      if (answer.error) p.reject(new Error(`${this.member}: ${answer.error.message}`));
      else p.resolve(answer);
    }
    if (this.ending && this.pending.size === 0) this.onClosed(this);
  }

  private onEnd(): void {
    if (this.status !== undefined && this.status !== 200) {
      this.fail(refusal(this.member, this.status, this.errorBody));
    } else if (this.pending.size > 0 || !this.ending) {
      this.fail(new Error(`${this.member} ended the stream`));
    }
    this.onClosed(this);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.request.destroy();
    this.onClosed(this);
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
