/**
 * Time and chance, as the node's modules see them: the seams through which the simulator
 * (test/sim) runs the real runtime, channels, failure detector and runners on a virtual clock
 * with seeded randomness. Production uses realClock and realRandom; nothing else in the
 * node's logic reads Date.now, performance.now, Math.random or the global timers.
 */

/** An opaque handle of a scheduled callback. */
export interface Timer {
  readonly id: unknown;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (durations, deadlines, ages). */
  now(): number;
  /** Milliseconds since the epoch, for what people read (status, logs). */
  wallNow(): number;
  setTimeout(run: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
  /** Runs `run` once the current turn's work is done, before any timer: the batching turn. */
  defer(run: () => void): void;
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** The process's clock: performance.now, Date.now, Node's timers, setImmediate. */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (run, ms) => ({ id: setTimeout(run, ms) }),
  clearTimeout: (timer) => {
    if (timer) clearTimeout(timer.id as NodeJS.Timeout);
  },
  defer: (run) => {
    setImmediate(run);
  },
};

export const realRandom: Random = { next: () => Math.random() };

/** Waits `ms` on `clock`, or less if `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
