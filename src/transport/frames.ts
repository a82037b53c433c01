/**
 * The framing of the peer stream (docs/flow-control.md): a frame is a JSON header line, then
 * `raw` bytes when the header says `"raw": N`. Long values travel as raw UTF-8 after the
 * header instead of JSON-escaped inside it, so a value costs its own size on the wire and
 * is never parsed as JSON; the decoder only counts them.
 */

/** Content type of the peer stream, both ways. */
export const FRAMES = 'application/x-shmem-frames';

/** One decoded frame: the parsed header and the raw bytes that followed it (empty if none). */
export interface Frame {
  readonly header: unknown;
  readonly raw: Buffer;
}

/** Bytes that are not a valid frame stream, or a frame over a bound; the stream must end. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(readonly reason: 'malformed' | 'frame_too_large', message: string) {
    super(message);
  }
}

const NEWLINE = 0x0a;
/** Strict UTF-8: a header with invalid bytes is refused, never read with U+FFFD in it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface FrameBounds {
  /** Longest header line, newline excluded; refused before it is parsed. */
  readonly headerBytesMax: number;
  /** Most raw bytes one frame may announce; refused before they are read. */
  readonly rawBytesMax: number;
}

/**
 * Cuts a byte stream into frames. Linear in the bytes it is given: chunks are kept in a list
 * and only new bytes are searched for the newline, so a long line without one costs its
 * length once, not once per chunk.
 */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Raw bytes still expected by the frame whose header was read, or -1 while reading a header. */
  private rawNeeded = -1;
  private header: unknown;

  constructor(private readonly bounds: FrameBounds) {}

  /** The frames completed by `chunk`, in order. Throws FrameError. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      if (this.rawNeeded < 0) {
        const nl = rest.indexOf(NEWLINE);
        if (nl < 0) {
          this.keep(rest);
          if (this.buffered > this.bounds.headerBytesMax) {
            throw new FrameError('frame_too_large', `a frame header exceeds the limit of ${this.bounds.headerBytesMax} bytes`);
          }
          break;
        }
        if (this.buffered + nl > this.bounds.headerBytesMax) {
          throw new FrameError('frame_too_large', `a frame header exceeds the limit of ${this.bounds.headerBytesMax} bytes`);
        }
        this.keep(rest.subarray(0, nl));
        rest = rest.subarray(nl + 1);
        this.header = this.parseHeader(this.take());
        this.rawNeeded = rawLength(this.header, this.bounds.rawBytesMax);
        if (this.rawNeeded === 0) frames.push(this.finish());
        continue;
      }
      const n = Math.min(this.rawNeeded - this.buffered, rest.length);
      this.keep(rest.subarray(0, n));
      rest = rest.subarray(n);
      if (this.buffered === this.rawNeeded) frames.push(this.finish());
    }
    return frames;
  }

  /** True when part of a frame is buffered (the sender stopped mid-frame). */
  get partial(): boolean {
    return this.buffered > 0 || this.rawNeeded > 0;
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.buffered += bytes.length;
  }

  private take(): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.buffered);
    this.parts = [];
    this.buffered = 0;
    return all;
  }

  private finish(): Frame {
    const raw = this.rawNeeded > 0 ? this.take() : EMPTY;
    const frame = { header: this.header, raw };
    this.rawNeeded = -1;
    this.header = undefined;
    return frame;
  }

  private parseHeader(bytes: Buffer): unknown {
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      throw new FrameError('malformed', 'a frame header is not valid UTF-8');
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new FrameError('malformed', `a frame header is not valid JSON: ${(err as Error).message.slice(0, 100)}`);
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** The raw length a header announces: a non-negative integer within the bound, 0 when absent. */
function rawLength(header: unknown, max: number): number {
  if (typeof header !== 'object' || header === null || !('raw' in header)) return 0;
  const raw = (header as { raw: unknown }).raw;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw new FrameError('malformed', 'a frame\'s "raw" must be a non-negative integer');
  if (raw > max) throw new FrameError('frame_too_large', `a frame announces ${raw} raw bytes, over the limit of ${max}`);
  return raw;
}

/**
 * A frame ready to write: the header line and the raw parts after it. `bytes` is its size on
 * the wire (what flow control counts).
 */
export interface EncodedFrame {
  readonly line: string;
  readonly raw: readonly Buffer[];
  readonly bytes: number;
}

/** Encodes `header` (which must not have `raw` yet) with `raw` parts after it. */
export function encodeFrame(header: Record<string, unknown>, raw: readonly Buffer[] = []): EncodedFrame {
  let rawBytes = 0;
  for (const r of raw) rawBytes += r.length;
  const line = `${JSON.stringify(rawBytes > 0 ? { ...header, raw: rawBytes } : header)}\n`;
  return { line, raw, bytes: line.length + rawBytes };
}

/**
 * Writes frames to a stream in as few writes as possible: consecutive header lines go out as
 * one string, raw parts as their own buffers (never copied into a bigger one). Each write on
 * an HTTP body is a chunk of its own, so fewer writes is fewer chunks and fewer syscalls.
 */
export function writeFrames(out: { write(chunk: string | Buffer): boolean }, frames: readonly EncodedFrame[]): boolean {
  let ok = true;
  let text = '';
  for (const f of frames) {
    text += f.line;
    if (f.raw.length === 0) continue;
    ok = out.write(text) && ok;
    text = '';
    for (const r of f.raw) ok = out.write(r) && ok;
  }
  if (text !== '') ok = out.write(text) && ok;
  return ok;
}

/** UTF-8 bytes of long values, encoded once however many members they are sent to. */
const utf8Cache = new WeakMap<object, Buffer>();

/** The UTF-8 bytes of `value`, cached on `owner` (the item that is sent to every member). */
export function utf8Of(owner: object, value: string): Buffer {
  let bytes = utf8Cache.get(owner);
  if (bytes === undefined) {
    bytes = Buffer.from(value, 'utf8');
    utf8Cache.set(owner, bytes);
  }
  return bytes;
}

/** Decodes one raw value strictly: invalid UTF-8 is refused, never stored as U+FFFD. */
export function decodeRawValue(raw: Buffer, start: number, length: number): string | undefined {
  try {
    return UTF8.decode(raw.subarray(start, start + length));
  } catch {
    return undefined;
  }
}
