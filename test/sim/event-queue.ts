/** A priority queue of timed callbacks on a virtual clock; ties run in scheduling order. */
export class EventQueue {
  private heap: { time: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Moves the clock forward to `time` (no event may be due before it). */
  advanceTo(time: number): void {
    if (time < this.now || this.nextTime() < time) throw new Error(`cannot advance the clock to ${time}`);
    this.now = time;
  }

  /** When the next event is due (Infinity when none is left). */
  nextTime(): number {
    return this.heap[0]?.time ?? Number.POSITIVE_INFINITY;
  }

  at(time: number, run: () => void): void {
    const item = { time: Math.max(time, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  after(delay: number, run: () => void): void {
    this.at(this.now + delay, run);
  }

  /** Runs the next event; false when none is left. */
  step(): boolean {
    const h = this.heap;
    if (h.length === 0) return false;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    this.now = top.time;
    top.run();
    return true;
  }
}

function less(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time !== b.time ? a.time < b.time : a.seq < b.seq;
}
