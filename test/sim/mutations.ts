import type { SimMutations } from './simulator.js';

/**
 * Broken variants of the node, each of which the simulation must catch (a violation of
 * linearizability, liveness or boundedness) within the seeds the test suite runs.
 */
export const MUTATIONS: Record<string, { readonly what: string; readonly mutations: SimMutations }> = {
  'read-without-write-back': { what: "the seeds' one-round read without write-back (coordinator)", mutations: { readWithoutWriteBack: true } },
  'fast-path-when-self-has-max': { what: 'a fast path taken when only the own replica holds the newest tag (coordinator)', mutations: { fastPathWhenSelfHasMax: true } },
  'minority-quorum': { what: 'a quorum smaller than a majority (coordinator)', mutations: { quorumOverride: 1 } },
  'ack-before-persist': { what: 'the store acknowledging updates before they are committed, then the process dying', mutations: { ackBeforePersist: true } },
  'wipe-without-recovery': { what: 'a wiped node answering as an empty replica without recovery', mutations: { wipeWithoutRecovery: true } },
  'no-retry': { what: 'a channel that never re-sends a lost update (drops it instead of retrying)', mutations: { noRetry: true } },
  'cancel-write-back-early': { what: "a runtime that answers a read once its write-back is queued and cancels the write-back", mutations: { answerReadAtWriteBack: true } },
};
