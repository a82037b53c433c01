/** Content type of the peer stream: one JSON document per line, both ways. */
export const NDJSON = 'application/x-ndjson';

/** A line grew past the bound without its newline (a broken or hostile sender). */
export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
}

/**
 * Cuts a stream of text chunks into lines. Chunks must already be decoded text
 * (setEncoding('utf8') keeps multi-byte characters whole across chunk edges).
 */
export class LineSplitter {
  private buffer = '';

  constructor(private readonly maxChars: number) {}

  /** The lines completed by `chunk`, in order, without their newlines. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    let text = this.buffer + chunk;
    // Only the new chunk can hold the newline that ends the buffered part.
    let nl = text.indexOf('\n', this.buffer.length);
    while (nl >= 0) {
      lines.push(text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    text = start === 0 ? text : text.slice(start);
    if (text.length > this.maxChars) throw new LineTooLongError(`a line exceeds the limit of ${this.maxChars} characters`);
    this.buffer = text;
    return lines;
  }

  /** True when a partial line is buffered (the sender stopped mid-line). */
  get partial(): boolean {
    return this.buffer.length > 0;
  }
}
