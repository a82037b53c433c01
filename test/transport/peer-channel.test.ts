import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { OpId, Phase } from '../../src/core/coordinator.js';
import { INITIAL } from '../../src/core/tag.js';
import type { Ballot, RmwAnswer, RmwMessage } from '../../src/core/rmw.js';
import type { Addr, QueryAnswer, RegisterItem, Tag } from '../../src/core/types.js';
import { PeerChannel, type ChannelSink } from '../../src/transport/peer-channel.js';
import { PeerRefusedError, type PeerLink } from '../../src/transport/peer-link.js';

/** A scripted in-process link: records every call and answers as told. */
class ScriptedLink implements PeerLink {
  readonly member = 'peer:1';
  calls: { kind: 'query' | 'update' | 'rmw'; size: number; signal: AbortSignal; values?: boolean | readonly boolean[] }[] = [];
  failuresLeft = 0;
  refuse = false;
  hold: Promise<void> | undefined;
  /** Addresses answered `unavailable` (a damaged register) this many more times. */
  unavailable = new Map<Addr, number>();
  /** Addresses whose value is damaged here: answered with their tag and `lost`. */
  lost = new Set<Addr>();

  async query(addrs: readonly Addr[], withValues: boolean | readonly boolean[], signal: AbortSignal): Promise<QueryAnswer[]> {
    this.calls.push({ kind: 'query', size: addrs.length, signal, values: withValues });
    await this.answer(signal);
    return addrs.map((a): QueryAnswer => {
      if (this.lost.has(a)) return { tag: { seq: 3, writer: 'w.1' }, lost: 'damaged' };
      const left = this.unavailable.get(a) ?? 0;
      if (left === 0) return INITIAL;
      this.unavailable.set(a, left - 1);
      return { unavailable: 'damaged' };
    });
  }

  async update(items: readonly RegisterItem[], signal: AbortSignal): Promise<void> {
    this.calls.push({ kind: 'update', size: items.length, signal });
    await this.answer(signal);
  }

  /** Promises every prepare, accepts every accept; addresses in `preempt` answer a higher ballot. */
  preempt = new Set<Addr>();
  async rmw(messages: readonly RmwMessage[], signal: AbortSignal): Promise<RmwAnswer[]> {
    this.calls.push({ kind: 'rmw', size: messages.length, signal });
    await this.answer(signal);
    return messages.map((m): RmwAnswer => {
      if (this.preempt.has(m.addr)) return { preempted: { round: 9, node: 'other' } };
      if (this.unavailable.has(m.addr)) return this.query([m.addr], true, signal) as never;
      return m.op === 'prepare' ? { promise: true, accepted: null, register: INITIAL, commits: [] } : m.op === 'accept' ? { accepted: true } : { committed: true };
    });
  }

  private async answer(signal: AbortSignal): Promise<void> {
    if (this.hold) await this.hold;
    if (signal.aborted) throw new Error('aborted');
    if (this.refuse) throw new PeerRefusedError('other member set');
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('connection refused');
    }
  }
}

class RecordingSink implements ChannelSink {
  replies: OpId[] = [];
  lost: [OpId, string][] = [];
  acks: OpId[] = [];
  refusals: [OpId, Phase][] = [];
  queryReply(opId: OpId): void { this.replies.push(opId); }
  valueLost(opId: OpId, _from: string, tag: Tag): void { this.lost.push([opId, `${tag.seq}@${tag.writer}`]); }
  updateAck(opId: OpId): void { this.acks.push(opId); }
  refused(opId: OpId, phase: Phase): void { this.refusals.push([opId, phase]); }
  rmwAnswers: [OpId, string][] = [];
  promise(opId: OpId): void { this.rmwAnswers.push([opId, 'promise']); }
  accepted(opId: OpId): void { this.rmwAnswers.push([opId, 'accepted']); }
  committed(opId: OpId): void { this.rmwAnswers.push([opId, 'committed']); }
  preempted(opId: OpId, phase: Phase, _from: string, promised: Ballot): void { this.rmwAnswers.push([opId, `${phase} preempted by ${promised.round}`]); }
}

/**
 * Lets the channel's flush (scheduled with setImmediate) and the link's answers run, then
 * waits `ms` more. A bare setTimeout(0) may fire before an earlier setImmediate when the test
 * resumes inside the timers phase, which made the batching test flaky under load.
 */
const settle = async (ms = 0): Promise<void> => {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, ms));
};
const item = (addr: number): RegisterItem => ({ addr, tag: { seq: 1, writer: 'w' }, value: 'v' });
const test = suite('peer channel');

test('requests made in one event-loop turn travel as one batch per phase', async () => {
  const link = new ScriptedLink();
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  for (let op = 1; op <= 100; op++) ch.query(op, op);
  ch.update(101, item(1));
  ch.update(102, item(2));
  await settle();
  assert.equal(link.calls.map((c) => [c.kind, c.size]), [['query', 100], ['update', 2]]);
  assert.is(sink.replies.length, 100);
  assert.equal(sink.acks, [101, 102]);
});

test('queries of reads and writes share a batch; each address says whether its value is needed', async () => {
  const link = new ScriptedLink();
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 1, false);
  ch.query(2, 2, true);
  ch.query(3, 3, false);
  await settle();
  assert.equal(link.calls.map((c) => [c.kind, c.size, c.values]), [['query', 3, [false, true, false]]]);
  assert.equal(sink.replies.sort(), [1, 2, 3]);
  ch.query(4, 4, false);
  ch.query(5, 5, false);
  await settle();
  assert.equal(link.calls[1]!.values, false, 'one flag when every address needs the same');
});

test('an address the member cannot vouch for (damaged) is asked again, not counted as answered', async () => {
  const link = new ScriptedLink();
  link.unavailable.set(5, 2);
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 5);
  ch.query(2, 6);
  await settle(20);
  assert.equal(sink.replies, [2], 'the healthy address is answered at once');
  await settle(500);
  assert.equal(sink.replies, [2, 1], 'the damaged one once the member answers it');
  assert.is(link.calls.length, 3);
});

test('an address whose value is damaged there is answered once, with its tag and no value: the coordinator counts the tag', async () => {
  const link = new ScriptedLink();
  link.lost.add(5);
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 5);
  ch.query(2, 6);
  await settle(200);
  assert.equal(sink.replies, [2]);
  assert.equal(sink.lost, [[1, '3@w.1']]);
  assert.is(link.calls.length, 1, 'not asked again: the answer is final for this request');
  assert.is(ch.outstanding, 0);
});

test('batches are split at the item bound', async () => {
  const link = new ScriptedLink();
  const ch = new PeerChannel(link, new RecordingSink());
  for (let op = 1; op <= 1200; op++) ch.query(op, op);
  await settle();
  assert.equal(link.calls.map((c) => c.size), [512, 512, 176]);
});

test('a failed request is retried with backoff until answered', async () => {
  const link = new ScriptedLink();
  link.failuresLeft = 2;
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 5);
  await settle(500);
  assert.is(link.calls.length, 3);
  assert.equal(sink.replies, [1]);
  assert.is(ch.stats().retries, 2);
});

test('a cancelled request is neither answered nor retried; a request on the wire is left to finish (keeps the connection)', async () => {
  const link = new ScriptedLink();
  let release!: () => void;
  link.hold = new Promise((r) => (release = r));
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 5);
  ch.query(2, 6);
  await settle();
  ch.cancel(1, 'query');
  ch.cancel(2, 'query');
  assert.not.ok(link.calls[0]!.signal.aborted, 'not aborted');
  release();
  await settle(50);
  assert.equal(sink.replies, [], 'answers of cancelled requests are ignored');
  assert.is(link.calls.length, 1);
  link.failuresLeft = 1;
  ch.query(3, 7);
  await settle();
  ch.cancel(3, 'query');
  await settle(300);
  assert.is(link.calls.length, 2, 'a cancelled request is not retried');
  ch.close();
});

test('a refusal is reported once per request and never retried', async () => {
  const link = new ScriptedLink();
  link.refuse = true;
  const sink = new RecordingSink();
  const ch = new PeerChannel(link, sink);
  ch.query(1, 5);
  ch.update(2, item(5));
  await settle(100);
  assert.equal(sink.refusals, [[1, 'query'], [2, 'update']]);
  assert.is(link.calls.length, 2);
});

test.run();
