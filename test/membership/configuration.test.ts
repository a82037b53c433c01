import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  compareStates, configurationProblem, countingConfigurations, describeChange, isParticipant, participants, quorumOf, stateProblem,
  type Configuration, type ConfigState,
} from '../../src/membership/configuration.js';
import { replicasOf } from '../../src/membership/placement.js';

const test = suite('configurations (pure)');
const m = (id: string, port = 4000) => ({ id, address: `127.0.0.1:${port}` });
const c = (epoch: number, ...members: ReturnType<typeof m>[]): Configuration => ({ epoch, members });
const three = c(1, m('a', 1), m('b', 2), m('c', 3));
const five = c(2, m('a', 1), m('b', 2), m('c', 3), m('d', 4), m('e', 5));

test('a configuration names each node id and address once, 1 to 15 members, epoch from 1', () => {
  assert.is(configurationProblem(three), null);
  assert.match(configurationProblem(c(0, m('a')))!, /epoch/);
  assert.match(configurationProblem(c(1))!, /at least one member/);
  assert.match(configurationProblem(c(1, m('a', 1), m('a', 2)))!, /node id a is listed twice/);
  assert.match(configurationProblem(c(1, m('a', 1), m('b', 1)))!, /address 127.0.0.1:1 is listed twice/);
  assert.match(configurationProblem(c(1, ...Array.from({ length: 16 }, (_, i) => m(`n${i}`, i))))!, /16 members, at most 15/);
  assert.match(stateProblem({ kind: 'joint', current: three, next: { ...five, epoch: 3 } })!, /from epoch 1 to 2, not 3/);
});

test('states are ordered stable(1) < joint(1,2) < stable(2)', () => {
  const s1: ConfigState = { kind: 'stable', current: three };
  const j: ConfigState = { kind: 'joint', current: three, next: five };
  const s2: ConfigState = { kind: 'stable', current: five };
  assert.ok(compareStates(s1, j) < 0 && compareStates(j, s2) < 0 && compareStates(s2, s2) === 0);
});

test('during a transition both member sets count, each member once; a removed member stops participating after it', () => {
  const shrink = c(2, m('a', 1), m('c', 3));
  const j: ConfigState = { kind: 'joint', current: three, next: shrink };
  assert.equal(countingConfigurations(j), [three, shrink]);
  assert.equal(participants(j).map((x) => x.id), ['a', 'b', 'c']);
  assert.ok(isParticipant(j, 'b'));
  assert.not.ok(isParticipant({ kind: 'stable', current: shrink }, 'b'));
  assert.equal([quorumOf(three), quorumOf(five), quorumOf(shrink)], [2, 3, 2]);
});

test('changes are described for people', () => {
  assert.is(describeChange(three, five), 'adds d (127.0.0.1:4), e (127.0.0.1:5)');
  assert.is(describeChange(three, c(2, m('a', 1), m('b', 9), m('c', 3))), 'moves b to 127.0.0.1:9');
  assert.is(describeChange(five, three), 'removes d (127.0.0.1:4), e (127.0.0.1:5)');
  assert.is(describeChange(three, three), 'no change');
});

test('placement: every member holds every address (for now)', () => {
  assert.equal(replicasOf(five, 12345), five.members);
});

test.run();
