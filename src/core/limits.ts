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
  /** Addresses a coordinator remembers the tag of a failed write for (core/coordinator.ts); beyond, one floor for all. */
  unsettledTagsMax: 100_000,
  /** The largest --op-deadline-ms (a recovering member may wait this long before it copies). */
  opDeadlineMsMax: 600_000,
  /** Default deadline of one request to a peer before it is retried. */
  peerRequestDeadlineMsDefault: 1_000,
  /** Age at which a peer stream is replaced by a new one (well within httpRequestMs). */
  peerStreamRenewMs: 20_000,
  /** Longest a node's HTTP server waits for a whole request, the peer stream's included. */
  httpRequestMs: 60_000,
  /** First and largest pause between retries of an unanswered peer request. */
  retryBackoffMsMin: 10,
  retryBackoffMsMax: 500,
  /**
   * Backoff of a compare-and-set or add preempted by another member's higher ballot: a delay
   * drawn uniformly below min(max, min * 2^attempt), so proposers that keep preempting each
   * other spread apart (docs/rmw.md, "Contention").
   */
  rmwBackoffMsMin: 2,
  rmwBackoffMsMax: 200,
  /**
   * An acceptor that promised a ballot refuses other proposers' prepares for this long, or until
   * the accept of that ballot arrives, so the proposer it promised gets its accept through
   * instead of being preempted between its two phases (whose outcome would then be unknown).
   * Refusing a promise is always safe; a proposer that died holds an address up to this long.
   */
  rmwPromiseLeaseMs: 50,
  /**
   * Commits of rmw results an acceptor row remembers (carstamp and origin), so a proposer whose
   * own accept was preempted can tell whether its result was chosen after others built on it.
   */
  rmwCommitHistory: 16,
  /** Promise leases kept per node (the oldest is dropped past it: only liveness is at stake). */
  rmwPromiseLeasesMax: 10_000,
  /** Compare-and-set and add messages in one POST /peer/rmw (each answer carries a value, within bulkAnswerValueBytesMax). */
  rmwBatchMax: 64,
  /** Heartbeat period and the silences after which a peer is suspect, then down. */
  heartbeatIntervalMsDefault: 500,
  suspectAfterMs: 1_500,
  downAfterMs: 5_000,
  /** A peer never heard from since this node started is `starting`, not down, for this long (members of a new cluster start one by one). */
  startingGraceMs: 10_000,
  /** Before status or readiness count members out, they ask those again, waiting at most this long (and at most once per refreshMinIntervalMs). */
  verdictRefreshMs: 500,
  verdictRefreshMinIntervalMs: 250,
  /** Most members a cluster may have. */
  membersMax: 15,

  // ---- flow control of the peer stream (docs/flow-control.md) ----
  /** Longest JSON header line of a peer stream frame; refused before it is parsed. */
  frameHeaderBytesMax: 1024 * 1024,
  /** Values of at most this many UTF-16 units ride inline in a frame header; longer ones as raw bytes. */
  inlineValueCharsMax: 256,
  /** A value of at least this many bytes travels on the bulk lane (updates, deferred fetches). */
  bulkValueBytesMin: 16 * 1024,
  /** Most value bytes in one small-lane query answer; later values are deferred to the bulk lane. */
  smallAnswerValueBytesMax: 256 * 1024,
  /** Most value bytes in one bulk-lane query answer (at least one value, whatever its size). */
  bulkAnswerValueBytesMax: 4 * 1024 * 1024,
  /** Bulk bytes one link may have outstanding to its member (sent, not acknowledged or answered). */
  bulkInFlightBytesMax: 16 * 1024 * 1024,
  /** A peer stream serving requests stops reading while its unsent answers exceed this. */
  servedAnswerBufferBytesMax: 4 * 1024 * 1024,
  /** ... or while the values of its updates not yet committed exceed this. */
  servedPendingUpdateBytesMax: 16 * 1024 * 1024,
  /** A served peer stream whose partial frame makes no progress for this long is ended. */
  servedFrameStallMs: 10_000,
  /** Most peer streams one node serves at once (two lanes per member, renewals overlapping). */
  peerStreamsServedMax: 64,
  /** An ending peer stream still waiting for answers after this long is destroyed (its requests retried). */
  peerStreamDrainMs: 10_000,
  /** Most value bytes one SQLite transaction writes; the rest of the queue commits next. */
  commitValueBytesMax: 8 * 1024 * 1024,
  /** Most value bytes in one page of /peer/registers (at least one register). */
  registerPageValueBytesMax: 4 * 1024 * 1024,
  /** Most rows one page of GET /peer/changes or /peer/tags answers (recovery asks this many). */
  changePageItemsMax: 1000,
  /**
   * Tags per page of a catch-up pull (docs/catch-up.md). Tried 250 (each page a shorter stretch
   * of synchronous work): the foreground p99 stayed at its idle figure, but catch-up then
   * compared changes barely faster than a 1,500 writes/s load made them (100,000 addresses in
   * 145 s, against 40 s with 1,000).
   */
  catchupPageItems: 1000,
  /** A catch-up request (tags only) unanswered this long fails and is asked again: a lost one must not stall catch-up. */
  catchupRequestMs: 5_000,

  // ---- the HTTP edge ----
  /** A request body at least this large reserves its size from the node-wide budget below. */
  largeBodyBytesMin: 64 * 1024,
  /** Bytes of large request bodies one node buffers at once; past it: 503 overloaded. */
  largeBodyBytesInFlightMax: 64 * 1024 * 1024,
  /** A request body that stops arriving for this long is cut off. */
  bodyStallMs: 10_000,
  /** Request headers must arrive within this (checked every connectionsCheckIntervalMs). */
  headersTimeoutMs: 10_000,
  connectionsCheckIntervalMs: 1_000,
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A connection answered with 400 for a protocol error is destroyed after this. */
  lingerAfterErrorMs: 1_000,
  /** Defaults of the connection limits (--connections-max, --connections-per-source-max). */
  connectionsMaxDefault: 1024,
  connectionsPerSourceMaxDefault: 256,
  /** File descriptors kept free of connections (SQLite, peers, logs) under the open-file limit. */
  fileDescriptorsReserve: 64,
  /** Longest a stopping node drains before it exits anyway. */
  drainMsMax: 10_000,
});

assert(limits.valueBytesDefault <= limits.valueBytesMax, 'default value size within the ceiling');
assert(limits.batchValueBytesMax >= 1, 'batch byte bound is positive');
assert(limits.retryBackoffMsMin <= limits.retryBackoffMsMax, 'backoff bounds ordered');
assert(limits.peerStreamRenewMs * 2 <= limits.httpRequestMs, 'a peer stream ends well before the server gives up on it');
assert(Number.isSafeInteger(limits.tagSeqMax + 1), 'the tag after the largest accepted one is still a safe integer');
assert(limits.suspectAfterMs < limits.downAfterMs, 'suspect comes before down');
assert(limits.downAfterMs <= limits.startingGraceMs, 'a member that never answered is starting at least as long as a silent one is not down');
assert(limits.heartbeatIntervalMsDefault < limits.suspectAfterMs, 'several heartbeats before suspicion');
// A full batch of inline values, JSON-escaped (6 chars per UTF-16 unit at worst), fits a header.
assert(limits.batchItemsMax * (limits.inlineValueCharsMax * 6 + 256) <= limits.frameHeaderBytesMax, 'inline values of a full batch fit one frame header');
assert(limits.inlineValueCharsMax * 3 < limits.bulkValueBytesMin, 'inline values are small-lane values');
assert(limits.bulkValueBytesMin <= limits.smallAnswerValueBytesMax, 'a small answer holds at least one small value');
assert(limits.smallAnswerValueBytesMax < limits.bulkAnswerValueBytesMax, 'the bulk lane carries the big answers');
assert(limits.bulkAnswerValueBytesMax <= limits.bulkInFlightBytesMax, 'one full bulk answer fits the in-flight budget');
assert(limits.batchValueBytesMax <= limits.commitValueBytesMax, 'one full batch commits in one transaction');
assert(limits.largeBodyBytesMin < limits.largeBodyBytesInFlightMax, 'several large bodies fit the budget');
assert(limits.drainMsMax < 15_000, 'the drain ends before the service unit\'s TimeoutStopSec (15 s)');
