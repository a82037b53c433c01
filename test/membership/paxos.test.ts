import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Configuration } from '../../src/membership/configuration.js';
import {
  acceptorAfterRecovery, NO_ACCEPTOR_STATE, onAccept, onPrepare, Proposer, type AcceptorState, type Ballot, type PaxosMutations, type ProposerEffect,
} from '../../src/membership/paxos.js';
import { Random } from '../sim/random.js';

const test = suite('choosing the next configuration (single-decree Paxos, pure)');
const config = (epoch: number, ...ids: string[]): Configuration => ({ epoch, members: ids.map((id, i) => ({ id, address: `127.0.0.1:${4000 + i}` })) });
const b = (round: number, node: string): Ballot => ({ round, node });
const A = ['a', 'b', 'c'];

test('an acceptor promises a higher ballot, rejects a lower one, and reports what it accepted', () => {
  let s: AcceptorState = NO_ACCEPTOR_STATE;
  let r = onPrepare(s, 2, b(1, 'a'));
  assert.equal(r.reply, { type: 'promise', accepted: null });
  s = r.state;
  assert.equal(onPrepare(s, 2, b(0, 'z')).reply, { type: 'reject', promised: b(1, 'a') });
  const a = onAccept(s, 2, b(1, 'a'), config(2, 'a', 'b', 'c', 'd'));
  assert.equal(a.reply, { type: 'accepted' });
  s = a.state;
  assert.equal(onAccept(s, 2, b(0, 'q'), config(2, 'a')).reply, { type: 'reject', promised: b(1, 'a') });
  r = onPrepare(s, 2, b(2, 'b'));
  assert.equal(r.reply, { type: 'promise', accepted: { ballot: b(1, 'a'), value: config(2, 'a', 'b', 'c', 'd') } });
  assert.equal(onPrepare(r.state, 3, b(0, 'a')).reply, { type: 'promise', accepted: null }, 'a newer slot starts afresh');
});

test('a wiped acceptor takes on the newest slot of the members it copied: the highest promise and the highest-ballot acceptance', () => {
  const v1 = config(2, 'a', 'b', 'c', 'd');
  const v2 = config(2, 'a', 'b', 'c', 'e');
  const copied: AcceptorState[] = [
    { slot: 2, promised: b(3, 'b'), accepted: { ballot: b(1, 'a'), value: v1 } },
    { slot: 2, promised: b(2, 'c'), accepted: { ballot: b(2, 'c'), value: v2 } },
    { slot: 1, promised: b(9, 'z'), accepted: null },
  ];
  const after = acceptorAfterRecovery(NO_ACCEPTOR_STATE, copied);
  assert.equal(after, { slot: 2, promised: b(3, 'b'), accepted: { ballot: b(2, 'c'), value: v2 } }, 'an older slot (1) is over; its promise does not carry over');
  // What a second proposer then finds in it: the value that may have been chosen with the lost vote.
  assert.equal(onPrepare(after, 2, b(4, 'd')).reply, { type: 'promise', accepted: { ballot: b(2, 'c'), value: v2 } });
  assert.equal(onAccept(after, 2, b(2, 'x'), v1).reply, { type: 'reject', promised: b(3, 'b') }, 'a promise it never gave itself still holds');
  assert.equal(acceptorAfterRecovery(NO_ACCEPTOR_STATE, []), NO_ACCEPTOR_STATE, 'nothing copied: nothing to take on');
  const accOnly = acceptorAfterRecovery(NO_ACCEPTOR_STATE, [{ slot: 3, promised: null, accepted: { ballot: b(5, 'a'), value: v1 } }]);
  assert.equal(accOnly.promised, b(5, 'a'), 'an acceptance implies the promise of its ballot');
});

test('a proposer alone: prepare, a majority of promises, accept, a majority of accepts, chosen', () => {
  const v = config(2, 'a', 'b', 'c', 'd');
  const p = new Proposer(A, 2, b(1, 'a'), v);
  assert.equal(p.start(), [{ type: 'prepare', to: A, slot: 2, ballot: b(1, 'a') }]);
  assert.equal(p.onPrepareReply('a', { type: 'promise', accepted: null }), []);
  assert.equal(p.onPrepareReply('c', { type: 'promise', accepted: null }), [{ type: 'accept', to: A, slot: 2, ballot: b(1, 'a'), value: v }]);
  assert.equal(p.onAcceptReply('b', { type: 'accepted' }), []);
  assert.equal(p.onAcceptReply('c', { type: 'accepted' }), [{ type: 'chosen', value: v, ours: true }]);
});

test('a proposer that finds an accepted value proposes it, and reports that its own lost', () => {
  const theirs = config(2, 'a', 'b');
  const p = new Proposer(A, 2, b(5, 'c'), config(2, 'a', 'b', 'c', 'd'));
  p.start();
  p.onPrepareReply('a', { type: 'promise', accepted: { ballot: b(3, 'b'), value: theirs } });
  const next = p.onPrepareReply('b', { type: 'promise', accepted: null });
  assert.equal(next, [{ type: 'accept', to: A, slot: 2, ballot: b(5, 'c'), value: theirs }]);
  p.onAcceptReply('a', { type: 'accepted' });
  assert.equal(p.onAcceptReply('c', { type: 'accepted' }), [{ type: 'chosen', value: theirs, ours: false }]);
});

test('a majority of rejections: outbid, with the highest ballot promised', () => {
  const p = new Proposer(A, 2, b(1, 'a'), config(2, 'a'));
  p.start();
  assert.equal(p.onPrepareReply('b', { type: 'reject', promised: b(4, 'c') }), []);
  assert.equal(p.onPrepareReply('c', { type: 'reject', promised: b(7, 'b') }), [{ type: 'outbid', promised: b(7, 'b') }]);
  assert.equal(p.onPrepareReply('a', { type: 'promise', accepted: null }), [], 'done: late replies change nothing');
});

/**
 * Proposers racing over acceptors that deliver, drop and reorder messages at random; an
 * outbid proposer retries with a higher round. Returns every value reported chosen.
 */
function race(seed: number, acceptors: readonly string[], proposers: number, mutations: PaxosMutations = {}): Configuration[] {
  const rng = new Random(seed);
  const states = new Map(acceptors.map((a) => [a, NO_ACCEPTOR_STATE]));
  const chosen: Configuration[] = [];
  interface Msg { readonly to: string; readonly from: number; readonly deliver: () => ProposerEffect[] }
  const inFlight: Msg[] = [];
  const current: Proposer[] = [];
  const values = Array.from({ length: proposers }, (_, i) => config(2, ...acceptors.slice(0, i + 1), `new${i}`));
  const send = (i: number, effects: ProposerEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'chosen') chosen.push(e.value);
      else if (e.type === 'outbid') {
        if (rng.chance(0.8)) launch(i, e.promised.round + 1 + rng.int(0, 2));
      } else {
        for (const to of e.to) {
          const p = current[i]!;
          inFlight.push({
            to, from: i, deliver: () => {
              const s = states.get(to)!;
              if (e.type === 'prepare') {
                const r = onPrepare(s, e.slot, e.ballot);
                states.set(to, r.state);
                return current[i] === p ? p.onPrepareReply(to, r.reply) : [];
              }
              const r = onAccept(s, e.slot, e.ballot, e.value);
              states.set(to, r.state);
              return current[i] === p ? p.onAcceptReply(to, r.reply) : [];
            },
          });
        }
      }
    }
  };
  const launch = (i: number, round: number): void => {
    current[i] = new Proposer(acceptors, 2, b(round, `p${i}`), values[i]!, mutations);
    send(i, current[i]!.start());
  };
  for (let i = 0; i < proposers; i++) launch(i, rng.int(0, 3));
  for (let steps = 0; inFlight.length > 0 && steps < 10_000; steps++) {
    const msg = inFlight.splice(rng.int(0, inFlight.length - 1), 1)[0]!;
    if (rng.chance(0.1)) continue; // lost
    send(msg.from, msg.deliver());
  }
  return chosen;
}

test('racing proposers never choose two different configurations (2,000 random schedules, 3 and 5 acceptors)', () => {
  let decided = 0;
  for (let seed = 1; seed <= 1000; seed++) {
    for (const acceptors of [A, ['a', 'b', 'c', 'd', 'e']]) {
      const chosen = race(seed, acceptors, 1 + (seed % 3));
      if (chosen.length > 0) decided += 1;
      for (const v of chosen) assert.equal(v, chosen[0], `seed ${seed}: two values chosen`);
    }
  }
  assert.ok(decided > 1000, `most schedules decide (${decided} of 2000)`);
});

test('the check catches proposers that skip the prepare phase (two configurations chosen)', () => {
  let caught: number | undefined;
  for (let seed = 1; seed <= 1000 && caught === undefined; seed++) {
    const chosen = race(seed, A, 2, { skipPrepare: true });
    if (chosen.some((v) => JSON.stringify(v) !== JSON.stringify(chosen[0]))) caught = seed;
  }
  assert.ok(caught !== undefined, 'caught within 1,000 schedules');
});

test.run();
