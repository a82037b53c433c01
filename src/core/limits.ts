import { assert } from './assert.js';

/**
 * Every bound of the system in one place, with units in the names ("put a limit on
 * everything"). Defaults that operators may change live in config; these are the hard
 * ceilings and the defaults config starts from.
 */
export const limits = Object.freeze({
  /** Default largest value a client may write, in UTF-8 bytes (1 MiB). */
  valueBytesDefault: 1024 * 1024,
  /** Hard ceiling for the configurable value size (64 MiB). */
  valueBytesMax: 64 * 1024 * 1024,
  /** Most addresses (query) or items (update) in one peer request. */
  batchItemsMax: 512,
  /** Most value bytes in one peer update request; a larger batch is split. */
  batchValueBytesMax: 4 * 1024 * 1024,
  /** Longest writer id accepted on the wire. */
  writerIdCharsMax: 128,
  /**
   * Largest tag seq a replica accepts (2^52). Far beyond any real history (a write a
   * microsecond for 142 years), and it leaves room so that seq + 1 is always a safe integer:
   * a forged tag can never make the next write's tag equal the stored one.
   */
  tagSeqMax: 2 ** 52,
  /** Most heartbeats one peer stream may send per second before it is cut off. */
  peerPingsPerSecondMax: 100,
  /** Default deadline of one client operation. */
  opDeadlineMsDefault: 5_000,
  /** Default deadline of one request to a peer before it is retried. */
  peerRequestDeadlineMsDefault: 1_000,
  /** Age at which a peer stream is replaced by a new one (well within httpRequestMs). */
  peerStreamRenewMs: 20_000,
  /** Longest a node's HTTP server waits for a whole request, the peer stream's included. */
  httpRequestMs: 60_000,
  /** First and largest pause between retries of an unanswered peer request. */
  retryBackoffMsMin: 10,
  retryBackoffMsMax: 500,
  /** Heartbeat period and the silences after which a peer is suspect, then down. */
  heartbeatIntervalMsDefault: 500,
  suspectAfterMs: 1_500,
  downAfterMs: 5_000,
  /** Most members a cluster may have. */
  membersMax: 15,
});

assert(limits.valueBytesDefault <= limits.valueBytesMax, 'default value size within the ceiling');
assert(limits.batchValueBytesMax >= 1, 'batch byte bound is positive');
assert(limits.retryBackoffMsMin <= limits.retryBackoffMsMax, 'backoff bounds ordered');
assert(limits.peerStreamRenewMs * 2 <= limits.httpRequestMs, 'a peer stream ends well before the server gives up on it');
assert(Number.isSafeInteger(limits.tagSeqMax + 1), 'the tag after the largest accepted one is still a safe integer');
assert(limits.suspectAfterMs < limits.downAfterMs, 'suspect comes before down');
assert(limits.heartbeatIntervalMsDefault < limits.suspectAfterMs, 'several heartbeats before suspicion');
