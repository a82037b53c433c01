import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isRegisterPage } from '../../src/transport/wire.js';

// A register page comes from another member to a recovering one: every field is checked before
// the page is used, the Paxos acceptor state a wiped member takes on included.
const test = suite('register pages from a peer (wire check)');
const acceptor = { slot: 2, promised: { round: 1, node: 'n1' }, accepted: { ballot: { round: 1, node: 'n1' }, value: { epoch: 2, members: [{ id: 'a', address: '127.0.0.1:1' }] } } };

test('a page with or without an acceptor state is taken', () => {
  assert.ok(isRegisterPage({ initialized: true, items: [], next: null, busy: false, opDeadlineMs: 5000 }));
  assert.ok(isRegisterPage({ initialized: true, items: [], next: null, busy: true, opDeadlineMs: 5000, acceptor }));
  assert.ok(isRegisterPage({ initialized: true, items: [], next: null, acceptor: { slot: 0, promised: null, accepted: null } }));
});

test('a malformed acceptor state makes the whole page malformed', () => {
  for (const bad of [
    null, 'x', { slot: -1, promised: null, accepted: null }, { slot: 1.5, promised: null, accepted: null },
    { slot: 2, promised: { round: 'a', node: 'n1' }, accepted: null },
    { slot: 2, promised: null, accepted: { ballot: null, value: acceptor.accepted.value } },
    { slot: 2, promised: null, accepted: { ballot: { round: 1, node: 'n1' }, value: { epoch: 2, members: 'all' } } },
    { slot: 2, promised: null, accepted: { ballot: { round: 1, node: 'n1' }, value: { epoch: 2, members: [] } } },
  ]) {
    assert.not.ok(isRegisterPage({ initialized: true, items: [], next: null, acceptor: bad }), JSON.stringify(bad));
  }
});

test.run();
