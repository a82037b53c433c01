import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runNemesis } from '../nemesis/nemesis.js';

const test = suite('nemesis (real processes, live faults)');

test('a short round of kills, pauses and wiped restarts (one node at a time) stays linearizable, and the members converge after it', async () => {
  const seed = Number(process.env['NEMESIS_SEED'] ?? Date.now() % 1_000_000);
  const r = await runNemesis({ seconds: 40, clients: 6, addrs: 5, majority: false, seed });
  const why = r.verdict.result === 'invalid' ? `${r.verdict.explanation}\n${JSON.stringify(r.verdict.window)}` : '';
  assert.is(r.verdict.result, 'valid', `seed ${seed}: ${why}\n${r.logs.slice(-5000)}`);
  assert.ok(r.counts.kills > 0 && r.counts.stops > 0 && r.counts.wipes > 0, `faults injected: ${JSON.stringify(r.counts)}`);
  assert.is(r.convergence.differing, undefined, `seed ${seed}: after the faults, catch-up brings every member to the same tags`);
  assert.ok(r.counts.ok > 1000, `operations completed: ${JSON.stringify(r.counts)}`);
  for (const c of [...r.counters, ...r.locks]) assert.is(c.problem, undefined, `seed ${seed}: ${JSON.stringify(c)}`);
  assert.ok(r.counters.length >= 2 && r.counters.reduce((n, c) => n + c.acked, 0) > 100, `counters counted: ${JSON.stringify(r.counters)}`);
  assert.ok(r.locks.length >= 3 && r.locks.some((l) => l.won === 1 && l.lost > 0), `locks raced: ${JSON.stringify(r.locks)}`);
});

test('the same faults over mutual TLS with a cluster secret stay linearizable', async () => {
  const seed = Number(process.env['NEMESIS_SEED'] ?? Date.now() % 1_000_000);
  const r = await runNemesis({ seconds: 20, clients: 6, addrs: 5, majority: false, seed, tls: true });
  const why = r.verdict.result === 'invalid' ? `${r.verdict.explanation}\n${JSON.stringify(r.verdict.window)}` : '';
  assert.is(r.verdict.result, 'valid', `seed ${seed}: ${why}\n${r.logs.slice(-5000)}`);
  assert.ok(r.counts.kills + r.counts.stops + r.counts.wipes > 0, `faults injected: ${JSON.stringify(r.counts)}`);
  assert.ok(r.counts.ok > 300, `operations completed: ${JSON.stringify(r.counts)}`);
});

test('members added, removed and replaced (wiped ones too) among kills, pauses and wipes stay linearizable', async () => {
  const seed = Number(process.env['NEMESIS_SEED'] ?? Date.now() % 1_000_000);
  const r = await runNemesis({ seconds: 30, clients: 6, addrs: 5, majority: false, seed, membership: true });
  const why = r.verdict.result === 'invalid' ? `${r.verdict.explanation}\n${JSON.stringify(r.verdict.window)}` : '';
  assert.is(r.verdict.result, 'valid', `seed ${seed}: ${why}\n${r.logs.slice(-5000)}`);
  assert.ok(r.counts.adds > 0 && r.counts.removes > 0, `member changes made: ${JSON.stringify(r.counts)}`);
  assert.is(r.convergence.differing, undefined, `seed ${seed}: after the changes, catch-up brings every member to the same tags`);
  assert.ok(r.counts.adds + r.counts.removes + r.counts.replaces - r.counts.changesFailed >= 4, `changes completed: ${JSON.stringify(r.counts)}`);
  for (const c of [...r.counters, ...r.locks]) assert.is(c.problem, undefined, `seed ${seed}: ${JSON.stringify(c)}`);
  assert.ok(r.counts.ok > 1000, `operations completed: ${JSON.stringify(r.counts)}`);
});

test('member changes over mutual TLS with a cluster secret (nodes joining with --join) stay linearizable', async () => {
  const seed = Number(process.env['NEMESIS_SEED'] ?? Date.now() % 1_000_000);
  const r = await runNemesis({ seconds: 15, clients: 4, addrs: 5, majority: false, seed, membership: true, tls: true });
  const why = r.verdict.result === 'invalid' ? `${r.verdict.explanation}\n${JSON.stringify(r.verdict.window)}` : '';
  assert.is(r.verdict.result, 'valid', `seed ${seed}: ${why}\n${r.logs.slice(-5000)}`);
  assert.ok(r.counts.adds - r.counts.changesFailed > 0, `a node joined and was added over TLS: ${JSON.stringify(r.counts)}`);
});

test('with a majority down, the cluster refuses rather than lies', async () => {
  const seed = Number(process.env['NEMESIS_SEED'] ?? Date.now() % 1_000_000);
  const r = await runNemesis({ seconds: 15, clients: 8, addrs: 3, majority: true, seed });
  assert.is(r.verdict.result, 'valid', `seed ${seed}`);
  assert.ok(r.counts.majorityOutages > 0);
  assert.ok(r.duringOutages.refused > 0, 'operations through the surviving node were refused during the outage');
  assert.is(r.duringOutages.succeeded, 0, 'no operation succeeded while a majority was down');
});

test.run();
