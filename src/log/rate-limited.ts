/** Most distinct keys remembered; past it the memory starts over (a flood of keys cannot grow it). */
const KEYS_MAX = 1000;

/**
 * Says whether a repeated event should be logged now: once per key per `intervalMs`, so a
 * peer retrying many times a second, or an attacker, cannot flood the log.
 */
export class LogLimiter {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  shouldLog(key: string, nowMs: number = Date.now()): boolean {
    const at = this.last.get(key);
    if (at !== undefined && nowMs - at < this.intervalMs) return false;
    if (this.last.size >= KEYS_MAX) this.last.clear();
    this.last.set(key, nowMs);
    return true;
  }
}
