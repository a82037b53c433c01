/** The last `size` latencies, for p50/p99 in /status (the dashboard's traffic panel). */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 2048) {
    this.samples = new Float64Array(size);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    this.filled = Math.min(this.filled + 1, this.samples.length);
  }

  /** Percentiles (0-100) of the window, in ms, rounded to 0.01; null when empty. */
  percentiles(...ps: number[]): (number | null)[] {
    if (this.filled === 0) return ps.map(() => null);
    const sorted = Array.from(this.samples.subarray(0, this.filled)).sort((a, b) => a - b);
    return ps.map((p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100);
  }
}
