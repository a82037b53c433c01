import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeChangeFeedPage, decodeTagPage, encodeChangeFeedPage, isRegisterPage } from '../../src/transport/wire.js';

// A register page comes from another member to a recovering one: every field is checked before
// the page is used, the Paxos acceptor state a wiped member takes on included.
const test = suite('register and change feed pages from a peer (wire check)');
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

test('a change feed page survives the wire both ways: tags only, and with values', () => {
  const items = [{ addr: 3, tag: { seq: 2, writer: 'aa0000a1.1' }, value: null }, { addr: 1, tag: { seq: 5, writer: 'bb0000b2.3' }, value: null }];
  const page = { initialized: true, items, next: 7, log: 'ab12', head: 9, oldestAgeMs: 40 };
  assert.equal(decodeChangeFeedPage(JSON.parse(JSON.stringify(encodeChangeFeedPage(page, false)))), page);
  const withValues = { ...page, items: items.map((i) => ({ ...i, value: `v${i.addr}` })), busy: false, opDeadlineMs: 5000 };
  assert.equal(decodeChangeFeedPage(JSON.parse(JSON.stringify(encodeChangeFeedPage(withValues, true)))), withValues);
  // A recovering member says whether it knows the cluster has served; absent counts as yes (docs/recovery.md).
  assert.equal(decodeChangeFeedPage({ initialized: false, served: false, items: [], next: null }), { initialized: false, served: false, items: [], next: null });
  assert.equal(decodeChangeFeedPage({ initialized: false, items: [], next: null }), { initialized: false, served: true, items: [], next: null });
  assert.type(decodeChangeFeedPage({ initialized: false, served: 'no', items: [], next: null }), 'string');
});

test('a malformed change feed or tag page is refused with what is wrong, never used', () => {
  const good = { initialized: true, log: 'ab12', head: 9, next: null, oldestAgeMs: 0, tags: [[1, 2, 'aa0000a1.1']] };
  const cases: [unknown, RegExp][] = [
    [null, /initialized/],
    [{ ...good, tags: [[1, 2]] }, /not valid registers/],
    [{ ...good, tags: [[-1, 2, 'aa0000a1.1']] }, /not valid registers/],
    [{ ...good, tags: [[1, 2 ** 60, 'aa0000a1.1']] }, /not valid registers/],
    [{ ...good, tags: [[1, 2, 'w'.repeat(500)]] }, /not valid registers/],
    [{ ...good, tags: 'all' }, /not valid registers/],
    [{ ...good, log: '' }, /log id/],
    [{ ...good, log: 7 }, /log id/],
    [{ ...good, head: -3 }, /head/],
    [{ ...good, next: 12 }, /past its head/],
    [{ ...good, next: 'x' }, /next position/],
    [{ ...good, oldestAgeMs: -1 }, /oldestAgeMs/],
    [{ initialized: true, items: [{ addr: 1, tag: { seq: 1, writer: 'a' }, value: 5 }], next: null, log: 'a', head: 1 }, /not valid registers/],
  ];
  for (const [page, why] of cases) {
    const decoded = decodeChangeFeedPage(page);
    assert.type(decoded, 'string', JSON.stringify(page).slice(0, 100));
    assert.match(decoded as string, why);
  }
  assert.equal(decodeTagPage({ tags: [[4, 1, 'cc0000c3.1']], next: null }), { items: [{ addr: 4, tag: { seq: 1, writer: 'cc0000c3.1' }, value: null }], next: null });
  for (const bad of [{ tags: [[4, 1]], next: null }, { tags: [], next: -1 }, null, { next: null }]) assert.type(decodeTagPage(bad), 'string', JSON.stringify(bad));
});

test.run();
