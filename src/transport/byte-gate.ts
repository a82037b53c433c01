/**
 * Admits work by bytes (docs/flow-control.md): while the bytes admitted and not released stay
 * under `maxBytes`, in arrival order; one request is always admitted when nothing is in flight,
 * so a single item larger than the budget still goes. The queue holds callbacks, not data.
 */
export class ByteGate {
  private inFlight = 0;
  private readonly queue: { bytes: number; admit: () => void; reject: (err: Error) => void }[] = [];
  private closedWith: Error | undefined;

  constructor(private readonly maxBytes: number) {}

  /** Bytes admitted and not yet released. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Requests waiting for admission. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with the release function once `bytes` are admitted. */
  acquire(bytes: number): Promise<() => void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const admit = (): void => {
        this.inFlight += bytes;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inFlight -= bytes;
          this.pump();
        });
      };
      this.queue.push({ bytes, admit, reject });
      this.pump();
    });
  }

  /** Rejects everything waiting, and every later acquire. */
  close(err: Error): void {
    this.closedWith = err;
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (this.inFlight > 0 && this.inFlight + head.bytes > this.maxBytes) return;
      this.queue.shift();
      head.admit();
    }
  }
}
