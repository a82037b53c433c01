import type { FaultKind, SimMutations } from './simulator.js';

/**
 * Broken variants of the node, each of which the simulation must catch (a violation of
 * linearizability, liveness or boundedness) within the seeds the test suite runs. `faults`,
 * when given, is the fault mix those seeds run with (default: every kind): a bug that needs
 * one narrow shape of fault is found in far fewer seeds when that shape is all there is.
 */
export const MUTATIONS: Record<string, {
  readonly what: string; readonly mutations: SimMutations; readonly faults?: readonly FaultKind[];
  /** Run with member changes (RECONFIGURE). */
  readonly reconfigure?: boolean;
  /** Seeds the test runs (default 1,000). */
  readonly seeds?: number;
  /**
   * Set when random seeds no longer build the bug's shape within the suite's budget, because
   * catch-up closes the windows it needs (a replica that missed a write): the test that builds
   * it on purpose and must catch it. `npm run sim -- --mutation` still runs it.
   */
  readonly builtBy?: string;
}> = {
  'read-without-write-back': { what: "the seeds' one-round read without write-back (coordinator)", mutations: { readWithoutWriteBack: true } },
  'fast-path-when-self-has-max': { what: 'a fast path taken when only the own replica holds the newest tag (coordinator)', mutations: { fastPathWhenSelfHasMax: true } },
  'read-value-of-older-tag': { what: "a read that returns its own replica's older value under the quorum's newest tag instead of fetching the newest value (coordinator)", mutations: { readValueOfOlderTag: true } },
  'minority-quorum': { what: 'a quorum smaller than a majority (coordinator)', mutations: { quorumOverride: 1 } },
  'ack-before-persist': { what: 'the store acknowledging updates before they are committed, then the process dying', mutations: { ackBeforePersist: true } },
  'wipe-without-recovery': { what: 'a wiped node answering as an empty replica without recovery', mutations: { wipeWithoutRecovery: true } },
  'no-retry': { what: 'a channel that never re-sends a lost update (drops it instead of retrying)', mutations: { noRetry: true } },
  'serve-damaged-value': { what: 'a replica that answers a value that failed its checksum as if it were whole (its tag counts since issue 30; its value must never)', mutations: { serveDamagedValue: true }, faults: ['rot-value', 'rot-value-stop', 'crash', 'isolate'] },
  'damaged-value-without-vote': { what: 'a replica whose value failed its checksum answers nothing, not even its tag (the rule before issue 30: one rotten value and one stopped member made the address unavailable)', mutations: { damagedValueUnavailable: true }, faults: ['rot-value-stop', 'crash', 'isolate'] },
  'recovering-counts-as-empty': { what: 'a wiped member that counts members recovering themselves as empty sources (what ended a live run as a "new cluster", issue 30)', mutations: { recoveringCountsAsEmpty: true }, faults: ['wipe-storm'] },
  'recovery-without-fence': { what: 'a wiped node that copies the others at once, while a write that counted its lost acknowledgement may still complete', mutations: { recoveryWithoutFence: true } },
  'repair-without-fence': { what: 'a damaged register repaired as soon as it is seen, while a write that counted its lost acknowledgement may still complete', mutations: { repairWithoutFence: true }, faults: ['rot-mid-write'] },
  'reuse-failed-write-tags': { what: "a write after one that failed past its update taking its tag only from the query (seed 8320)", mutations: { reuseFailedWriteTags: true }, faults: ['disk-full', 'slow-disk', 'one-way', 'isolate', 'stall'],
    builtBy: 'test/sim/hand-cluster.test.ts: seed 8320 step by step, with the mutation (0 of seeds 1-4,000 since the paced catch-up lane; seed 902 before it)' },
  'new-config-before-transfer': { what: 'a change that retires the old member set as soon as the new one is chosen, with no state transfer', mutations: { skipTransfer: true }, reconfigure: true },
  'two-proposers-install': { what: 'Paxos without its prepare phase: two proposers can both install epoch e+1', mutations: { skipPrepare: true }, reconfigure: true },
  'only-new-quorum-in-transition': { what: "operations during a change that count only the new member set's majority", mutations: { onlyNewQuorumInTransition: true }, reconfigure: true },
  'retired-answers': { what: 'a member out of the member set that still answers as a replica', mutations: { retiredAnswers: true }, reconfigure: true,
    builtBy: 'test/membership/model.test.ts: the model check of the real coordinator and membership (0 of seeds 1-3,200 since the paced catch-up lane; seed 2127 before it, 484 before catch-up)' },
  'wiped-acceptor-forgets': { what: 'a wiped member that votes in Paxos with an empty acceptor state, even while it recovers (seed 9991)', mutations: { wipedAcceptorForgets: true }, reconfigure: true },
  'catchup-skips-apply': { what: 'catch-up that keeps the position of pulled changes without storing them (the convergence check)', mutations: { catchupSkipsApply: true } },
  'definite-after-update': { what: 'a write that failed after sending its update reported as certainly not done (quorum_unavailable) instead of outcome_unknown', mutations: { definiteAfterUpdate: true }, faults: ['one-way', 'isolate', 'stall', 'slow-disk', 'stop'] },
  'cancel-write-back-early': { what: "a runtime that answers a read once its write-back is queued and cancels the write-back", mutations: { answerReadAtWriteBack: true } },
  'rmw-without-commit': { what: 'a compare-and-set or add answered once a quorum accepted it, without the commit that makes it a register (docs/rmw.md step 5)', mutations: { rmwWithoutCommit: true } },
  'rmw-fresh-seq': { what: "an rmw that stores its result under a fresh seq, as a write would, instead of its base's carstamp with rmwc+1", mutations: { rmwFreshSeq: true } },
  'acceptor-forgets-promises': { what: 'an acceptor that forgets its promises and acceptances across a restart', mutations: { forgetAcceptors: true }, faults: ['crash', 'crash-after-commit', 'isolate', 'one-way', 'stall'] },
  'rmw-ignores-higher-acceptance': { what: 'a proposer that builds on the highest register although a quorum reports a higher acceptance, which may be chosen', mutations: { rmwIgnoreHigherAcceptance: true } },
  'replica-ignores-rmwc': { what: 'a replica rule that compares (seq, writer) only, so an rmw result never replaces the value it was computed from', mutations: { ignoreRmwc: true } },
};

/** The simulation with member changes (npm run sim -- --reconfigure): 5 processes, 3 found the cluster. */
export const RECONFIGURE = { nodes: 5, reconfigureEveryMs: 1500, founders: 3, maxFaulty: 1 } as const;
