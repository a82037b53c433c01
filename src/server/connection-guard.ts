import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { limits } from '../core/limits.js';

/** Why a connection was closed at once. */
export type ConnectionRefusal = 'connections_max' | 'per_source_max';

/** Counters of the guard, for /status and /metrics. */
export interface ConnectionStats {
  readonly open: number;
  readonly max: number;
  readonly perSourceMax: number;
  readonly refused: Readonly<Record<ConnectionRefusal, number>>;
}

/**
 * Bounds the connections of one server (docs/flow-control.md): at most `max` open, at most
 * `perSourceMax` from one address. A connection past a bound is destroyed before any byte of
 * it is read, and reported (metrics, rate-limited log), so a flood of sockets from one
 * source (slowloris) cannot take the descriptors that everyone else needs.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly bySource = new Map<string, number>();
  private readonly refused: Record<ConnectionRefusal, number> = { connections_max: 0, per_source_max: 0 };
  readonly max: number;
  readonly perSourceMax: number;

  constructor(max: number, perSourceMax: number, private readonly onRefused: (reason: ConnectionRefusal, source: string) => void) {
    // Never more than the process can open, with a reserve for SQLite, peers and logs; and one
    // source never more than a quarter of that, so it cannot starve the others (peers included).
    const files = openFileLimit();
    this.max = files === undefined ? max : Math.max(1, Math.min(max, files - limits.fileDescriptorsReserve));
    this.perSourceMax = Math.max(1, Math.min(perSourceMax, Math.floor(this.max / 4)));
  }

  /** Admits `socket` (counting it until it closes) or destroys it; true when admitted. */
  admit(socket: Socket): boolean {
    const source = socket.remoteAddress ?? '?';
    const fromSource = this.bySource.get(source) ?? 0;
    const reason: ConnectionRefusal | undefined = this.open >= this.max ? 'connections_max' : fromSource >= this.perSourceMax ? 'per_source_max' : undefined;
    if (reason !== undefined) {
      this.refused[reason] += 1;
      socket.destroy();
      this.onRefused(reason, source);
      return false;
    }
    this.open += 1;
    this.bySource.set(source, fromSource + 1);
    socket.once('close', () => {
      this.open -= 1;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left <= 0) this.bySource.delete(source);
      else this.bySource.set(source, left);
    });
    return true;
  }

  stats(): ConnectionStats {
    return { open: this.open, max: this.max, perSourceMax: this.perSourceMax, refused: { ...this.refused } };
  }
}

/** The soft limit of open files of this process (Linux /proc), or undefined where unknown. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
