import type { Clock, Timer } from '../../src/platform/clock.js';
import { EventQueue } from './event-queue.js';

/** Virtual milliseconds at the start of every simulation, as a wall clock (2026-01-01). */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * Simulated time for many node processes: one queue of timed events, and a Scope per process
 * incarnation that is that process's Clock. Killing a scope is the process dying: its timers,
 * deferred work and arriving messages never run again. Stalling a scope is the process
 * paused (SIGSTOP, a long GC, a VM migration): what falls due meanwhile runs, late and in
 * order, when the stall ends, so its timers see time jump.
 */
export class World {
  readonly queue = new EventQueue();

  get now(): number {
    return this.queue.now;
  }

  scope(name: string): Scope {
    return new Scope(this, name);
  }

  /** Runs events until the queue is empty, `until()` holds, or virtual time passes `endMs`; microtasks settle between events. */
  async run(options: { until?: () => boolean; endMs?: number; maxEvents?: number } = {}): Promise<number> {
    await settle();
    let events = 0;
    const end = options.endMs ?? Number.POSITIVE_INFINITY;
    const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
    while (!(options.until?.() ?? false)) {
      if (this.queue.nextTime() > end) break;
      if (!this.queue.step()) break;
      await settle();
      if (++events > maxEvents) throw new Error(`more than ${maxEvents} events (a livelock?)`);
    }
    // Time passes to the end asked for, even with nothing to do meanwhile.
    if (Number.isFinite(end) && !(options.until?.() ?? false) && this.queue.nextTime() > end && end > this.now) this.queue.advanceTo(end);
    return events;
  }
}

/**
 * Lets the promise continuations that the last event started run before the next event, so
 * that "an answer arrives, the coordinator reacts" happens at one virtual instant. Microtasks
 * run in a fixed order, so the interleaving is the same in every replay of a seed.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await null;
}

interface SimTimer extends Timer {
  readonly id: { cancelled: boolean };
}

/** One process incarnation's clock; see World. */
export class Scope implements Clock {
  alive = true;
  /** Virtual time until which the process is paused. */
  stalledUntil = 0;
  /** Offset of this machine's wall clock (a jumped or badly set clock): only what people read uses it. */
  wallOffsetMs = 0;

  constructor(private readonly world: World, readonly name: string) {}

  now(): number {
    return this.world.now;
  }

  wallNow(): number {
    return EPOCH_MS + this.world.now + this.wallOffsetMs;
  }

  setTimeout(run: () => void, ms: number): Timer {
    const timer: SimTimer = { id: { cancelled: false } };
    this.world.queue.after(Math.max(0, ms), () => {
      if (!timer.id.cancelled) this.enter(run);
    });
    return timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer) (timer as SimTimer).id.cancelled = true;
  }

  defer(run: () => void): void {
    this.world.queue.after(0, () => this.enter(run));
  }

  /** Runs `run` in this process now (a message arriving, a client request), unless it is dead; paused, it waits. */
  enter(run: () => void): void {
    if (!this.alive) return;
    if (this.world.now < this.stalledUntil) {
      this.world.queue.at(this.stalledUntil, () => this.enter(run));
      return;
    }
    run();
  }

  /** The process dies: nothing scheduled in it runs any more. */
  kill(): void {
    this.alive = false;
  }
}
