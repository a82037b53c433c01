import type { RegisterPage } from '../core/recovery.js';
import type { Addr, RegisterItem, Versioned } from '../core/types.js';
import { RecoveringError } from '../errors.js';
import type { RegisterStore } from '../storage/register-store.js';
import type { LocalReplica } from '../transport/peer-link.js';

/**
 * The replica role of this node (SPEC section 2) in front of its store. While the node is
 * recovering a wiped data dir it answers nothing (503 `recovering`), so it is never counted
 * in a quorum with data it does not have; senders retry elsewhere or later.
 */
export class Replica implements LocalReplica {
  constructor(private readonly store: RegisterStore, public recovering: boolean) {}

  query(addrs: readonly Addr[]): Versioned[] {
    this.refuseWhileRecovering();
    return this.store.read(addrs);
  }

  /** Resolves once the items are durable; stale items are not stored but still acknowledged. */
  update(items: readonly RegisterItem[]): Promise<void> {
    if (this.recovering) return Promise.reject(this.recoveringError());
    return this.store.putIfNewer(items);
  }

  /** A page of registers for a recovering member; "not initialised" while recovering ourselves. */
  page(after: Addr | null, limit: number): RegisterPage {
    if (this.recovering) return { initialized: false, items: [], next: null };
    const items = this.store.list(after, limit);
    return { initialized: true, items, next: items.length === limit ? items.at(-1)!.addr : null };
  }

  private refuseWhileRecovering(): void {
    if (this.recovering) throw this.recoveringError();
  }

  private recoveringError(): RecoveringError {
    return new RecoveringError('this member is recovering its data from the other members and does not answer yet');
  }
}
