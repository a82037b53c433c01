/**
 * The node-wide budget of large request bodies (docs/flow-control.md): a body of at least
 * limits.largeBodyBytesMin reserves its size before it is read, and gives it back when its
 * request is answered; when the budget is spent the request is refused at once (503
 * overloaded) rather than buffered. Small bodies are bounded by the connection limit.
 */
export class BodyBudget {
  private reserved = 0;
  refusals = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved by bodies being read or held. */
  get bytesReserved(): number {
    return this.reserved;
  }

  /** Reserves `bytes`; the release function, or undefined when they do not fit. */
  tryReserve(bytes: number): (() => void) | undefined {
    if (this.reserved + bytes > this.maxBytes) {
      this.refusals += 1;
      return undefined;
    }
    this.reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
    };
  }
}
