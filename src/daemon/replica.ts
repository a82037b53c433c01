import { limits } from '../core/limits.js';
import type { RegisterPage } from '../core/recovery.js';
import type { Addr, RegisterItem, ReplicaAnswer, ValueWant } from '../core/types.js';
import { RecoveringError } from '../errors.js';
import type { RegisterStore } from '../storage/register-store.js';
import type { LocalReplica } from '../transport/peer-link.js';

/**
 * The replica role of this node (SPEC section 2) in front of its store. While the node is
 * recovering a wiped data dir it answers nothing (503 `recovering`), so it is never counted
 * in a quorum with data it does not have; senders retry elsewhere or later. Addresses whose
 * register is damaged are answered `unavailable` by the store until repaired.
 */
export class Replica implements LocalReplica {
  constructor(private readonly store: RegisterStore, public recovering: boolean) {}

  /** What a recovering member must know of this node's coordinator (core/recovery.ts); set by the node. */
  coordinatorFacts: () => { readonly busy: boolean; readonly opDeadlineMs: number } | Record<string, never> = () => ({});

  query(addrs: readonly Addr[], want: ValueWant): ReplicaAnswer[] {
    this.refuseWhileRecovering();
    return this.store.query(addrs, want);
  }

  /** Resolves once the items are durable; stale items are not stored but still acknowledged. */
  update(items: readonly RegisterItem[]): Promise<void> {
    if (this.recovering) return Promise.reject(this.recoveringError());
    return this.store.putIfNewer(items);
  }

  /**
   * A page of registers for a recovering member (at most limits.registerPageValueBytesMax of
   * values); "not initialised" while recovering ourselves.
   */
  page(after: Addr | null, limit: number): RegisterPage {
    if (this.recovering) return { initialized: false, items: [], next: null };
    const { items, next } = this.store.page(after, limit, limits.registerPageValueBytesMax);
    return { initialized: true, items, next, ...this.coordinatorFacts() };
  }

  private refuseWhileRecovering(): void {
    if (this.recovering) throw this.recoveringError();
  }

  private recoveringError(): RecoveringError {
    return new RecoveringError('this member is recovering its data from the other members and does not answer yet');
  }
}
