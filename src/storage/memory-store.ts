import { shouldStore } from '../core/replica.js';
import { INITIAL } from '../core/tag.js';
import type { Addr, RegisterItem, Versioned } from '../core/types.js';
import type { RegisterStore, StoreStats } from './register-store.js';

/** A RegisterStore in memory with the same replica rule, for unit tests. Not durable. */
export class MemoryStore implements RegisterStore {
  private readonly registers = new Map<Addr, Versioned>();
  private readonly meta = new Map<string, string>();
  private commits = 0;

  read(addrs: readonly Addr[]): Versioned[] {
    return addrs.map((a) => this.registers.get(a) ?? INITIAL);
  }

  async putIfNewer(items: readonly RegisterItem[]): Promise<void> {
    for (const item of items) {
      if (shouldStore(this.registers.get(item.addr) ?? INITIAL, item)) {
        this.registers.set(item.addr, { tag: item.tag, value: item.value });
      }
    }
    this.commits += 1;
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  stats(): StoreStats {
    return { addresses: this.registers.size, dbBytes: 0, commits: this.commits, lastBatchItems: 0, path: ':memory:' };
  }

  async close(): Promise<void> {}
}
