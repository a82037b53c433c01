import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Coordinator, type Effect } from '../../src/core/coordinator.js';
import { INITIAL } from '../../src/core/tag.js';
import type { Versioned } from '../../src/core/types.js';

/**
 * The pure coordinator: events in, effects out, no interpreter. Whole scenarios on real
 * nodes are in test/sim (hand-cluster.test.ts step by step, sim.test.ts at random).
 */
const test = suite('coordinator (ABD, pure)');
const M = ['a', 'b', 'c'];
const coordinator = (members = M) => new Coordinator({ self: members[0]!, writer: `${members[0]}.1`, members, quorum: Math.floor(members.length / 2) + 1 });
const pair = (seq: number, writer: string, value: string | null): Versioned => ({ tag: { seq, writer }, value });
const types = (effects: Effect[]) => effects.map((e) => e.type);

test('a write asks every member for tags only, then sends seq+1 with its writer id once a quorum answered', () => {
  const co = coordinator();
  assert.equal(co.write(1, 3, 'foo'), [{ type: 'send-query', opId: 1, to: M, addr: 3, values: false }]);
  assert.equal(co.onQueryReply(1, 'a', INITIAL), []);
  const effects = co.onQueryReply(1, 'b', pair(4, 'x.1', null));
  assert.equal(effects, [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'send-update', opId: 1, to: M, item: { addr: 3, tag: { seq: 5, writer: 'a.1' }, value: 'foo' } },
  ]);
  assert.equal(co.onUpdateAck(1, 'c'), []);
  assert.equal(co.onUpdateAck(1, 'a'), [
    { type: 'cancel', opId: 1, phase: 'update' },
    { type: 'resolve', opId: 1, result: { kind: 'write', addr: 3, tag: { seq: 5, writer: 'a.1' } } },
  ]);
  assert.is(co.inFlight, 0);
});

test('a read asks its own replica for the value and the others for tags; a quorum that agrees resolves in one round (fast path)', () => {
  const co = coordinator();
  assert.equal(co.read(1, 3), [
    { type: 'send-query', opId: 1, to: ['a'], addr: 3, values: true },
    { type: 'send-query', opId: 1, to: ['b', 'c'], addr: 3, values: false },
  ]);
  co.onQueryReply(1, 'a', pair(2, 'b.1', 'v'), undefined, true);
  assert.equal(co.onQueryReply(1, 'c', pair(2, 'b.1', null), undefined, false), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 3, value: 'v', tag: { seq: 2, writer: 'b.1' }, fastPath: true } },
  ]);
});

test('a read that sees disagreeing tags fetches the newest value, writes it back and resolves only after a quorum acknowledged it', () => {
  const co = coordinator();
  co.read(1, 3);
  co.onQueryReply(1, 'a', INITIAL, undefined, true);
  assert.equal(co.onQueryReply(1, 'c', pair(1, 'c.1', null), undefined, false), [
    { type: 'send-query', opId: 1, to: ['c'], addr: 3, values: true },
  ], 'the newest tag came without its value: ask its holder');
  assert.equal(co.onQueryReply(1, 'b', INITIAL, undefined, false), [], 'a tag-only answer after the quorum adds nothing');
  assert.equal(co.onQueryReply(1, 'c', pair(1, 'c.1', 'new'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'send-update', opId: 1, to: M, item: { addr: 3, tag: { seq: 1, writer: 'c.1' }, value: 'new' } },
  ]);
  assert.equal(co.onUpdateAck(1, 'a'), []);
  assert.equal(types(co.onUpdateAck(1, 'b')), ['cancel', 'resolve']);
});

test("a value that came with a tag-only answer is never returned: the value is fetched", () => {
  const co = coordinator();
  co.read(1, 3);
  co.onQueryReply(1, 'b', pair(3, 'b.1', 'not asked for'), undefined, false);
  assert.equal(co.onQueryReply(1, 'a', pair(2, 'a.1', 'old'), undefined, true), [
    { type: 'send-query', opId: 1, to: ['b'], addr: 3, values: true },
  ]);
  const done = co.onQueryReply(1, 'b', pair(3, 'b.1', 'three'), undefined, true);
  assert.equal(done.at(-1), { type: 'send-update', opId: 1, to: M, item: { addr: 3, tag: { seq: 3, writer: 'b.1' }, value: 'three' } });
});

test("when two tag-only answers make the quorum first, the own replica's late value of the same tag completes the read", () => {
  const co = coordinator();
  co.read(1, 3);
  co.onQueryReply(1, 'b', pair(2, 'b.1', null), undefined, false);
  assert.equal(co.onQueryReply(1, 'c', pair(2, 'b.1', null), undefined, false), [
    { type: 'send-query', opId: 1, to: ['b', 'c'], addr: 3, values: true },
  ]);
  assert.equal(co.onQueryReply(1, 'a', pair(2, 'b.1', 'v'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 3, value: 'v', tag: { seq: 2, writer: 'b.1' }, fastPath: true } },
  ]);
});

test('a fetch answered only with older pairs than the newest tag seen starts the query round over', () => {
  const co = coordinator();
  co.read(1, 3);
  co.onQueryReply(1, 'b', pair(5, 'b.1', null), undefined, false);
  co.onQueryReply(1, 'c', pair(4, 'c.1', null), undefined, false);
  assert.equal(co.onQueryReply(1, 'a', pair(4, 'c.1', 'four'), undefined, true), [], 'a was asked for its value and answered an older tag; b is fetched');
  assert.equal(co.onQueryReply(1, 'b', pair(1, 'x.1', 'lost'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'send-query', opId: 1, to: ['a'], addr: 3, values: true },
    { type: 'send-query', opId: 1, to: ['b', 'c'], addr: 3, values: false },
  ]);
  // The new round counts answers afresh: before issue 30 it kept the first round's tracker, so
  // these answers did not count and the read waited for its deadline.
  assert.equal(co.onQueryReply(1, 'a', pair(4, 'c.1', 'four'), undefined, true), []);
  assert.equal(co.onQueryReply(1, 'c', pair(4, 'c.1', null), undefined, false), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 3, value: 'four', tag: { seq: 4, writer: 'c.1' }, fastPath: true } },
  ]);
});

test('an address no member ever stored reads as null without a fetch, even before the own replica answers', () => {
  const co = coordinator();
  co.read(1, 3);
  co.onQueryReply(1, 'b', INITIAL, undefined, false);
  assert.equal(co.onQueryReply(1, 'c', INITIAL, undefined, false), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 3, value: null, tag: INITIAL.tag, fastPath: true } },
  ]);
});

test('two writes to one address through one coordinator are serialised: the second starts when the first ends', () => {
  const co = coordinator();
  co.write(1, 1, 'x');
  assert.equal(co.write(2, 1, 'y'), [], 'the second write waits');
  co.onQueryReply(1, 'a', INITIAL);
  co.onQueryReply(1, 'b', INITIAL);
  co.onUpdateAck(1, 'a');
  const effects = co.onUpdateAck(1, 'b');
  assert.equal(types(effects), ['cancel', 'resolve', 'send-query']);
  assert.equal(effects[2], { type: 'send-query', opId: 2, to: M, addr: 1, values: false });
});

test('duplicated answers from one member do not make a quorum', () => {
  const co = coordinator();
  co.read(1, 1);
  assert.equal(co.onQueryReply(1, 'b', INITIAL), []);
  assert.equal(co.onQueryReply(1, 'b', INITIAL), []);
  co.write(2, 5, 'w');
  co.onQueryReply(2, 'a', INITIAL);
  co.onQueryReply(2, 'b', INITIAL);
  co.onUpdateAck(2, 'c');
  assert.equal(co.onUpdateAck(2, 'c'), []);
  assert.is(co.inFlight, 2);
});

test('an op that misses its deadline fails with quorum_unavailable; late answers change nothing', () => {
  const co = coordinator();
  co.read(1, 1);
  co.onQueryReply(1, 'a', INITIAL);
  const effects = co.onDeadline(1);
  assert.equal(types(effects), ['cancel', 'reject']);
  assert.equal((effects[1] as Extract<Effect, { type: 'reject' }>).failure, { code: 'quorum_unavailable', message: 'no quorum of 2 before the deadline (1/3 answered the query phase)' });
  assert.equal(co.onQueryReply(1, 'b', INITIAL), []);
  assert.equal(co.onDeadline(1), []);
});

test('a queued write that misses its deadline fails without cancelling anything and leaves the queue in order', () => {
  const co = coordinator();
  co.write(1, 1, 'x');
  co.write(2, 1, 'y');
  co.write(3, 1, 'z');
  const effects = co.onDeadline(2);
  assert.equal(types(effects), ['reject']);
  assert.match((effects[0] as Extract<Effect, { type: 'reject' }>).failure.message, /queued behind an earlier write/);
  co.onQueryReply(1, 'a', INITIAL);
  co.onQueryReply(1, 'b', INITIAL);
  co.onUpdateAck(1, 'a');
  assert.equal(co.onUpdateAck(1, 'b').at(-1), { type: 'send-query', opId: 3, to: M, addr: 1, values: false });
});

test('refusals by members with another member set fail the op once no quorum is possible', () => {
  const co = coordinator();
  co.write(1, 1, 'x');
  assert.equal(co.onRefused(1, 'query', 'b', 'other members'), []);
  const effects = co.onRefused(1, 'query', 'c', 'other members');
  assert.equal(types(effects), ['cancel', 'reject']);
  assert.is((effects[1] as Extract<Effect, { type: 'reject' }>).failure.code, 'membership_mismatch');
});

test('shutdown fails every operation, queued ones included', () => {
  const co = coordinator();
  co.read(1, 1);
  co.write(2, 2, 'x');
  co.write(3, 2, 'y');
  const rejects = co.shutdown().filter((e) => e.type === 'reject');
  assert.equal(rejects.map((e) => e.opId).sort(), [1, 2, 3]);
  assert.is(co.inFlight, 0);
});

test('a cluster of one is its own quorum', () => {
  const co = coordinator(['solo']);
  co.write(1, 0, 'alone');
  assert.equal(types(co.onQueryReply(1, 'solo', INITIAL)), ['cancel', 'send-update']);
  assert.equal(types(co.onUpdateAck(1, 'solo')), ['cancel', 'resolve']);
});

// ---- a change of the member set (docs/membership.md): joint quorums -----------------------

const FIVE = ['a', 'b', 'c', 'd', 'e'];
const joint = { groups: [{ members: M, needed: 2 }, { members: FIVE, needed: 3 }] };

test('in a transition 3 -> 5 a phase needs a majority of the old set and of the new one; requests go to all five', () => {
  const co = new Coordinator({ self: 'a', writer: 'a.1', members: M, quorum: 2, membership: joint });
  assert.equal(co.write(1, 3, 'x'), [{ type: 'send-query', opId: 1, to: FIVE, addr: 3, values: false }]);
  co.onQueryReply(1, 'd', INITIAL);
  co.onQueryReply(1, 'e', INITIAL);
  assert.equal(co.onQueryReply(1, 'a', INITIAL), [], '{a, d, e} is a majority of the new set only');
  assert.equal(types(co.onQueryReply(1, 'b', pair(1, 'b.1', null))), ['cancel', 'send-update']);
  for (const m of ['c', 'd', 'e']) assert.equal(co.onUpdateAck(1, m), [], `${m}: the old set has only c`);
  assert.equal(types(co.onUpdateAck(1, 'b')), ['cancel', 'resolve']);
});

test('a read in a transition takes the fast path only when the quorums of both sets agree', () => {
  const co = new Coordinator({ self: 'a', writer: 'a.1', members: M, quorum: 2, membership: joint });
  co.read(1, 3);
  co.onQueryReply(1, 'a', pair(2, 'b.1', 'v'), undefined, true);
  co.onQueryReply(1, 'd', INITIAL); // d and e are new and still empty
  assert.equal(co.onQueryReply(1, 'e', INITIAL), [], '{a, d, e} is a quorum of the new set only');
  const effects = co.onQueryReply(1, 'b', pair(2, 'b.1', 'v'));
  assert.equal(types(effects), ['cancel', 'send-update'], 'the answers disagree: written back to both sets before it returns');
  assert.equal((effects[1] as Extract<Effect, { type: 'send-update' }>).to, FIVE);
});

test('learning a newer configuration restarts every phase in flight under it, counting answers afresh', () => {
  const co = coordinator();
  co.write(1, 3, 'x');
  co.onQueryReply(1, 'a', INITIAL);
  co.onQueryReply(1, 'b', INITIAL);
  assert.equal(co.onUpdateAck(1, 'a'), []);
  co.read(2, 4);
  const effects = co.reconfigure(joint);
  assert.equal(effects, [
    { type: 'cancel', opId: 1, phase: 'update' },
    { type: 'send-update', opId: 1, to: FIVE, item: { addr: 3, tag: { seq: 1, writer: 'a.1' }, value: 'x' } },
    { type: 'cancel', opId: 2, phase: 'query' },
    { type: 'send-query', opId: 2, to: ['a'], addr: 4, values: true },
    { type: 'send-query', opId: 2, to: ['b', 'c', 'd', 'e'], addr: 4, values: false },
  ]);
  assert.equal(co.onUpdateAck(1, 'b'), [], "a's acknowledgement was counted under the old set; the new round starts from none");
  co.onUpdateAck(1, 'd');
  assert.equal(co.onUpdateAck(1, 'e'), [], '{b, d, e} is a quorum of the new set, {b} none of the old');
  assert.equal(types(co.onUpdateAck(1, 'c')), ['cancel', 'resolve']);
});

test('after a shrink an answer from the removed member is ignored, not a crash', () => {
  const co = new Coordinator({ self: 'a', writer: 'a.1', members: FIVE, quorum: 3 });
  co.read(1, 3);
  co.reconfigure({ groups: [{ members: M, needed: 2 }] });
  assert.equal(co.onQueryReply(1, 'e', pair(9, 'e.1', 'late')), []);
  assert.equal(co.onUpdateAck(1, 'd'), []);
  assert.equal(co.onRefused(1, 'query', 'd', 'retired'), []);
  co.onQueryReply(1, 'b', INITIAL);
  assert.equal(types(co.onQueryReply(1, 'c', INITIAL)), ['cancel', 'resolve']);
});

test('a deadline in a transition names both quorums', () => {
  const co = new Coordinator({ self: 'a', writer: 'a.1', members: M, quorum: 2, membership: joint });
  co.read(1, 3);
  co.onQueryReply(1, 'a', INITIAL);
  co.onQueryReply(1, 'd', INITIAL);
  const reject = co.onDeadline(1)[1] as Extract<Effect, { type: 'reject' }>;
  assert.is(reject.failure.message, 'no quorum of 2 and 3 before the deadline (1/3 and 2/5 answered the query phase)');
});

test('answers count only under the configuration state they were given in (model seed 3451)', () => {
  const co = new Coordinator({ self: 'a', writer: 'a.1', members: ['a', 'b'], quorum: 1, membership: { groups: [{ members: ['b'], needed: 1 }, { members: ['a'], needed: 1 }], rank: 3 } });
  co.read(1, 3);
  assert.equal(co.onQueryReply(1, 'a', pair(1, 'x.1', 'old'), 3, true), [], "a's answer counts for the new set {a}; the old set {b} has not answered");
  co.reconfigure({ groups: [{ members: ['a'], needed: 1 }], rank: 4 });
  assert.equal(co.onQueryReply(1, 'a', pair(1, 'x.1', 'old'), 3, true), [], 'given during the transition, before the state transfer reached a: it must not count alone');
  assert.equal(co.onQueryReply(1, 'a', pair(7, 'b.1', 'new'), 4, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 3, value: 'new', tag: { seq: 7, writer: 'b.1' }, fastPath: true } },
  ]);
});

test('a write queued behind another starts under the member sets learned while it waited', () => {
  const co = coordinator();
  co.write(1, 3, 'first');
  assert.equal(co.write(2, 3, 'second'), [], 'queued');
  co.reconfigure(joint);
  for (const m of ['a', 'b', 'd']) co.onQueryReply(1, m, INITIAL);
  co.onUpdateAck(1, 'a');
  co.onUpdateAck(1, 'b');
  const started = co.onUpdateAck(1, 'd'); // {a, b} of the old set and {a, b, d} of the new one
  assert.equal(types(started), ['cancel', 'resolve', 'send-query']);
  assert.equal(started[2], { type: 'send-query', opId: 2, to: FIVE, addr: 3, values: false });
  assert.equal(co.onQueryReply(2, 'e', INITIAL), [], 'an answer from a new member counts (no assertion), one of three');
});

// ---- a damaged value keeps its tag's vote (issue 30, docs/storage-integrity.md) ----

const t = (seq: number, writer: string) => ({ seq, writer });

test('a read through a member whose own value is damaged counts its tag and fetches the value from another holder', () => {
  const co = coordinator();
  co.read(1, 5);
  assert.equal(co.onValueLost(1, 'a', t(4, 'b.1')), [], 'its own value is lost, its tag counts');
  assert.equal(co.onQueryReply(1, 'b', pair(4, 'b.1', null), undefined, false), [
    { type: 'send-query', opId: 1, to: ['b'], addr: 5, values: true },
  ], 'a quorum of a (damaged) and b: the value comes from b, never from a');
  assert.equal(co.onQueryReply(1, 'b', pair(4, 'b.1', 'five'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 5, value: 'five', tag: t(4, 'b.1'), fastPath: true } },
  ], 'both hold tag 4: one round (c is stopped and was never needed)');
});

test('a write counts a damaged value\'s tag like any tag, and goes above it', () => {
  const co = coordinator();
  co.write(1, 5, 'next');
  co.onValueLost(1, 'b', t(7, 'b.1'));
  assert.equal(co.onQueryReply(1, 'a', pair(4, 'a.1', null)), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'send-update', opId: 1, to: M, item: { addr: 5, tag: t(8, 'a.1'), value: 'next' } },
  ]);
});

test('the newest tag held only by a damaged replica: the others are asked for values; found nowhere, the read goes on without counting damaged replicas', () => {
  const co = coordinator();
  co.read(1, 5);
  co.onValueLost(1, 'a', t(9, 'x.1')); // the only holder of tag 9 (a write that then failed) lost its value
  assert.equal(co.onQueryReply(1, 'b', pair(4, 'b.1', null), undefined, false), [
    { type: 'send-query', opId: 1, to: ['c'], addr: 5, values: true },
  ], 'no other member answered tag 9: ask the one that has not answered (b holds 4, older)');
  assert.equal(co.onQueryReply(1, 'c', pair(4, 'b.1', 'four'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'send-query', opId: 1, to: ['a'], addr: 5, values: true },
    { type: 'send-query', opId: 1, to: ['b', 'c'], addr: 5, values: false },
  ], 'tag 9\'s value is nowhere: a new round in which damaged replicas do not count');
  assert.equal(co.onValueLost(1, 'a', t(9, 'x.1')), [], 'not counted now');
  assert.equal(co.onQueryReply(1, 'b', pair(4, 'b.1', null), undefined, false), []);
  assert.equal(co.onQueryReply(1, 'c', pair(4, 'b.1', null), undefined, false), [
    { type: 'send-query', opId: 1, to: ['b', 'c'], addr: 5, values: true },
  ]);
  assert.equal(co.onQueryReply(1, 'b', pair(4, 'b.1', 'four'), undefined, true), [
    { type: 'cancel', opId: 1, phase: 'query' },
    { type: 'resolve', opId: 1, result: { kind: 'read', addr: 5, value: 'four', tag: t(4, 'b.1'), fastPath: true } },
  ], 'a quorum of b and c, both whole: the newest complete value');
});

test('the damaged replica\'s tag is the newest and its only other holder does not answer: the read waits (and fails at its deadline), never returns an older value', () => {
  const co = coordinator();
  co.read(1, 5);
  co.onValueLost(1, 'a', t(9, 'x.1'));
  const asked = co.onQueryReply(1, 'b', pair(4, 'b.1', null), undefined, false);
  assert.equal(asked, [{ type: 'send-query', opId: 1, to: ['c'], addr: 5, values: true }], 'c may hold tag 9 whole');
  const failed = co.onDeadline(1); // c is stopped
  assert.equal(types(failed), ['cancel', 'reject']);
  assert.match((failed[1] as { failure: { message: string } }).failure.message, /damaged/);
});

test.run();
