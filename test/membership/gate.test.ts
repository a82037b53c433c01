import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConfigState, Configuration } from '../../src/membership/configuration.js';
import { gateRequest, membershipOf } from '../../src/membership/gate.js';

const test = suite('replica gate: requests under another configuration (pure)');
const cfg = (epoch: number, ...ids: string[]): Configuration => ({ epoch, members: ids.map((id, i) => ({ id, address: `127.0.0.1:${4000 + i}` })) });
const s1: ConfigState = { kind: 'stable', current: cfg(1, 'a', 'b', 'c') };
const j: ConfigState = { kind: 'joint', current: cfg(1, 'a', 'b', 'c'), next: cfg(2, 'a', 'c', 'd') };
const s2: ConfigState = { kind: 'stable', current: cfg(2, 'a', 'c', 'd') };

test('the same state is served; an older one gets our state back and does not count; a newer one is learned first', () => {
  assert.equal(gateRequest(j, 'a', j), { kind: 'serve' });
  assert.equal(gateRequest(j, 'a', s1), { kind: 'stale', state: j }, 'a write sent under epoch 1 alone must restart under the joint quorums');
  assert.equal(gateRequest(s1, 'a', j), { kind: 'learn' });
});

test('a member removed by the newest configuration it knows answers retired, even to a request of its own state', () => {
  assert.equal(gateRequest(s2, 'b', s2), { kind: 'retired', state: s2 });
  assert.equal(gateRequest(s2, 'b', s1), { kind: 'retired', state: s2 });
  assert.equal(gateRequest(j, 'b', j), { kind: 'serve' }, 'during the transition it still counts in the old set');
  assert.equal(gateRequest(j, 'd', j), { kind: 'serve' }, 'and the new member counts in the new set');
});

test('the coordinator counts a majority of each set of the state, and only answers given under it', () => {
  assert.equal(membershipOf(j), { groups: [{ members: ['a', 'b', 'c'], needed: 2 }, { members: ['a', 'c', 'd'], needed: 2 }], rank: 3 });
  assert.equal(membershipOf(s2, (m) => m.address), { groups: [{ members: ['127.0.0.1:4000', '127.0.0.1:4001', '127.0.0.1:4002'], needed: 2 }], rank: 4 });
});

test.run();
