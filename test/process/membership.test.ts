import { rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HistoryEvent } from '../../src/check/history.js';
import { checkHistory } from '../../src/check/linearizability.js';
import { Cluster, freePorts, http, NodeProcess, readVia, runCli, tempDir, writeVia } from '../helpers/cluster.js';

const test = suite('changing the member set (real processes, docs/membership.md)');

const address = (n: NodeProcess): string => `127.0.0.1:${n.port}`;

/** A new node started with --join, on an empty data dir inside the cluster's folder. */
function joiner(c: Cluster, port: number, via: NodeProcess): NodeProcess {
  const n = new NodeProcess(port, [], join(c.dir, `joined-${port}`), ['--join', address(via)]);
  c.nodes.push(n); // destroyed with the cluster
  n.start();
  return n;
}

/** A fourth node, joined through node 0 and added to the member set through it. */
async function addFourth(c: Cluster): Promise<NodeProcess> {
  const [p] = await freePorts(1);
  const n4 = joiner(c, p!, c.node(0));
  await n4.waitFor('/livez');
  assert.is((await member(['add', address(n4)], [c.node(0)])).code, 0);
  return n4;
}

async function member(args: readonly string[], via: readonly NodeProcess[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const r = await runCli(['member', ...args, '--json', '--endpoints', via.map((n) => n.url).join(',')]);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout || r.stderr);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/**
 * Clients that run for the whole test: one writer and one reader per address, each going
 * through the endpoints it is given (failing over as the CLI does), recording a history.
 */
class Clients {
  readonly history: HistoryEvent[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];
  ok = 0;

  constructor(private endpoints: () => readonly NodeProcess[], addrs: number) {
    for (let a = 0; a < addrs; a += 1) {
      this.loops.push(this.loop(`w${a}`, a, true), this.loop(`r${a}`, a, false));
    }
  }

  private async loop(process: string, addr: number, writer: boolean): Promise<void> {
    for (let i = 0; this.running; i += 1) {
      const value = `${process}-${i}`;
      this.history.push(writer ? { type: 'invoke', process, f: 'write', addr, value } : { type: 'invoke', process, f: 'read', addr });
      const outcome = await this.attempt(addr, writer ? value : undefined);
      if (outcome.ok) this.ok += 1;
      this.history.push(writer
        ? { type: outcome.ok ? 'ok' : 'info', process, f: 'write', addr, value }
        : outcome.ok ? { type: 'ok', process, f: 'read', addr, value: outcome.value ?? null } : { type: 'fail', process, f: 'read', addr });
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async attempt(addr: number, value: string | undefined): Promise<{ ok: boolean; value?: string | null }> {
    for (const n of this.endpoints()) {
      try {
        const r = value === undefined ? await readVia(n, addr) : await writeVia(n, addr, value);
        if (r.status === 200) return { ok: true, value: r.body.value };
        if (r.status !== 503) return { ok: false };
      } catch {
        // not reachable: the next endpoint
      }
    }
    return { ok: false };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

test('grow 3 -> 5 and shrink back to 3 while clients run: no downtime, the history is linearizable, every write survives', async () => {
  const c = await Cluster.start(3);
  let clients: Clients | undefined;
  try {
    const [p4, p5] = await freePorts(2);
    const founders = [...c.nodes];
    let serving: NodeProcess[] = [...founders];
    clients = new Clients(() => serving, 4);
    await new Promise((r) => setTimeout(r, 300));

    const n4 = joiner(c, p4!, c.node(0));
    const n5 = joiner(c, p5!, c.node(1));
    await n4.waitFor('/livez');
    await n5.waitFor('/livez');
    const waiting = await http(`${n4.url}/readyz`);
    assert.is(waiting.status, 503, 'a joined node is not ready before it is added');
    assert.match(waiting.text, '[-]not a member');

    const add4 = await member(['add', address(n4)], [c.node(0)]);
    assert.is(add4.code, 0, add4.stderr);
    assert.is(add4.json.epoch, 2);
    assert.match(add4.json.change, `adds`);
    const add5 = await member(['add', address(n5)], [c.node(2)]);
    assert.is(add5.code, 0, add5.stderr);
    assert.is(add5.json.epoch, 3);
    assert.is(add5.json.list.members.length, 5);
    await n4.waitFor('/readyz');
    await n5.waitFor('/readyz');
    serving = [n4, n5, ...founders];

    // Every member lists the same five, all voting, at epoch 3.
    const listed = await member(['list'], [n5]);
    assert.is(listed.code, 0, listed.stderr);
    assert.is(listed.json.epoch, 3);
    assert.equal(listed.json.members.map((m: { address: string }) => m.address).sort(), [...founders, n4, n5].map(address).sort());
    assert.ok(listed.json.members.every((m: { state: string }) => m.state === 'voting'));

    // Shrink: remove two founders, one of them through itself.
    const rm0 = await member(['remove', address(c.node(0))], [c.node(0)]);
    assert.is(rm0.code, 0, rm0.stderr);
    const rm1 = await member(['remove', address(c.node(1))], [n4]);
    assert.is(rm1.code, 0, rm1.stderr);
    assert.is(rm1.json.epoch, 5);
    serving = [n4, n5, c.node(2), c.node(0), c.node(1)];
    await new Promise((r) => setTimeout(r, 300));
    await clients.stop();

    // The removed members say so and coordinate nothing.
    const retired = await http(`${c.node(0).url}/readyz`);
    assert.is(retired.status, 503);
    assert.match(retired.text, '[-]not a member of epoch 4', 'it knows the member set that retired it');
    const refused = await readVia(c.node(1), 0);
    assert.is(refused.status, 503);
    assert.is(refused.body.error.code, 'not_member');
    assert.match(c.node(0).log, /this node is no longer a member/);

    assert.ok(clients.ok > 50, `clients made progress (${clients.ok} operations ok)`);
    const verdict = checkHistory(clients.history, { budgetMs: 20_000 });
    assert.is(verdict.result, 'valid', JSON.stringify(verdict).slice(0, 2000));
    // The last acknowledged write of every address is readable from the new members alone.
    await c.node(2).stop('SIGKILL');
    for (let a = 0; a < 4; a += 1) {
      const writes = clients.history.filter((e) => e.f === 'write' && e.addr === a && e.type === 'ok');
      const r = await readVia(n4, a);
      assert.is(r.status, 200, r.text);
      const last = writes.at(-1)?.value;
      const later = clients.history.filter((e) => e.f === 'write' && e.addr === a && e.type === 'info').map((e) => e.value);
      assert.ok(r.body.value === last || later.includes(r.body.value), `address ${a}: read ${r.body.value}, last acknowledged ${last}`);
    }
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await clients?.stop();
    await c.destroy();
  }
});

test('replace a member that is down and whose data is gone, by a new node at another address', async () => {
  const c = await Cluster.start(3);
  try {
    for (let a = 0; a < 50; a += 1) assert.is((await writeVia(c.node(a % 3), a, `v${a}`)).status, 200);
    const dead = c.node(2);
    await dead.stop('SIGKILL');
    rmSync(dead.dataDir, { recursive: true, force: true });
    const [p] = await freePorts(1);
    const fresh = joiner(c, p!, c.node(0));
    await fresh.waitFor('/livez');
    const r = await member(['replace', address(dead), address(fresh)], [c.node(1)]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.json.change, `removes ${address(dead)}`);
    assert.ok(r.json.registersCopied >= 50, `copied ${r.json.registersCopied}`);
    await fresh.waitFor('/readyz');
    // The new node and one old one are a majority now: every write is there.
    await c.node(0).stop('SIGKILL');
    for (let a = 0; a < 50; a += 1) assert.is((await readVia(fresh, a)).body.value, `v${a}`);
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('1 -> 3 -> 1: a single node grows into a cluster and back', async () => {
  const dir = tempDir();
  const [p1, p2, p3] = await freePorts(3);
  const one = new NodeProcess(p1!, [], join(dir, 'one'));
  const nodes = [one];
  try {
    one.start();
    await one.waitFor();
    assert.is((await writeVia(one, 1, 'alone')).status, 200);
    for (const p of [p2!, p3!]) {
      const n = new NodeProcess(p, [], join(dir, `n${p}`), ['--join', address(one)]);
      nodes.push(n);
      n.start();
      await n.waitFor('/livez');
      const r = await member(['add', address(n)], [one]);
      assert.is(r.code, 0, r.stderr);
    }
    assert.is((await readVia(nodes[2]!, 1)).body.value, 'alone');
    // Back to one: the last node added keeps the data alone.
    for (const n of [one, nodes[1]!]) assert.is((await member(['remove', address(n)], [nodes[2]!])).code, 0);
    await one.stop('SIGKILL');
    await nodes[1]!.stop('SIGKILL');
    assert.is((await readVia(nodes[2]!, 1)).body.value, 'alone');
    const last = await member(['remove', address(nodes[2]!)], [nodes[2]!]);
    assert.is(last.code, 1);
    assert.is(last.json.error.code, 'change_refused');
    assert.match(last.json.error.message, 'the last member');
  } catch (err) {
    (err as Error).message += `\n${nodes.map((n) => n.log).join('\n')}`;
    throw err;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('member addresses as URLs, as --endpoints takes them: --join http://…, member add/remove http://…; a scheme that contradicts TLS is refused', async () => {
  const c = await Cluster.start(3);
  try {
    const [p] = await freePorts(1);
    const n4 = new NodeProcess(p!, [], join(c.dir, 'joined-url'), ['--join', `${c.node(0).url}/`]);
    c.nodes.push(n4);
    n4.start();
    await n4.waitFor('/livez');
    assert.match(n4.log, /fetched the member set from 127\.0\.0\.1:/);
    const added = await member(['add', n4.url], [c.node(1)]);
    assert.is(added.code, 0, added.stderr);
    assert.ok(added.json.list.members.some((m: { address: string; state: string }) => m.address === address(n4) && m.state === 'voting'), 'stored as host:port');
    const https = await member(['remove', `https://${address(n4)}`], [c.node(1)]);
    assert.is(https.code, 1);
    assert.is(https.json.error.code, 'bad_request');
    assert.match(https.json.error.message, 'this cluster\'s members speak plain http (TLS is off)');
    const removed = await member(['remove', n4.url], [c.node(1)]);
    assert.is(removed.code, 0, removed.stderr);
    const start = await runCli(['start', '--port', '1', '--data-dir', join(c.dir, 'never'), '--peers', 'https://127.0.0.1:2,ftp://127.0.0.1:3,http://127.0.0.1:4/x']);
    assert.is(start.code, 2);
    assert.match(start.stderr, '"https://127.0.0.1:2": this cluster\'s members speak plain http (TLS is off)');
    assert.match(start.stderr, '"ftp://127.0.0.1:3": members speak http or https, not ftp');
    assert.match(start.stderr, '"http://127.0.0.1:4/x" is not host:port or a URL http(s)://host:port');
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

/**
 * A TCP proxy to 127.0.0.1:`port` that loses answers: it passes the request on and the node's
 * "100 Continue", then cuts the connection as soon as the final answer starts (the change ran).
 * With `forward` false it answers "100 Continue" itself and never passes the request on.
 */
async function lossyProxy(port: number, forward: boolean): Promise<{ url: string; close: () => void }> {
  const server = createServer((client) => {
    client.on('error', () => {});
    if (!forward) {
      client.once('data', () => client.write('HTTP/1.1 100 Continue\r\n\r\n', () => client.destroy()));
      return;
    }
    const up = connect(port, '127.0.0.1');
    up.on('error', () => client.destroy());
    client.pipe(up);
    up.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (text.startsWith('HTTP/1.1 100')) {
        const end = text.indexOf('\r\n\r\n') + 4;
        client.write(chunk.subarray(0, end));
        if (end < chunk.length) client.destroy();
      } else {
        client.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('a member change whose answer is lost is never sent again: the member list says it is done, or the CLI says it may not be (change_unknown)', async () => {
  const c = await Cluster.start(3);
  const proxies: { close: () => void }[] = [];
  try {
    const [p, q] = await freePorts(2);
    const n4 = joiner(c, p!, c.node(0));
    const n5 = joiner(c, q!, c.node(0));
    await n4.waitFor('/livez');
    await n5.waitFor('/livez');
    assert.is((await member(['add', address(n4)], [c.node(0)])).code, 0);
    // The change runs on n4 (through a proxy that loses its answer): the list of the next endpoint shows it done.
    const lossy = await lossyProxy(n4.port, true);
    proxies.push(lossy);
    const removed = await runCli(['member', 'remove', address(n4), '--endpoints', `${lossy.url},${c.node(1).url}`]);
    assert.is(removed.code, 0, `${removed.stdout}${removed.stderr}`);
    assert.match(removed.stdout, new RegExp(`remove ${address(n4).replace(/\./g, '\\.')}: done \\(the answer of ${lossy.url.replace(/[./]/g, '\\$&')} was lost`));
    assert.not.match(`${removed.stdout}${removed.stderr}`, 'no majority of the current members', 'the change was not asked a second time');
    // The request never reached a node: the list does not show it, so the CLI says it may not have happened.
    const hole = await lossyProxy(0, false);
    proxies.push(hole);
    const unknown = await runCli(['member', 'add', address(n5), '--json', '--endpoints', `${hole.url},${c.node(1).url}`]);
    assert.is(unknown.code, 1, unknown.stdout);
    const e = JSON.parse(unknown.stdout).error;
    assert.is(e.code, 'change_unknown');
    assert.match(e.message, `add ${address(n5)}: sent to ${hole.url}, whose answer was lost`);
    assert.match(e.message, 'does not show it');
    assert.match(e.hint, 'shmem member list');
    const list = await member(['list'], [c.node(2)]);
    assert.not.ok(list.json.members.some((m: { address: string }) => m.address === address(n5)), 'and it was not made behind the user\'s back');
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    for (const x of proxies) x.close();
    await c.destroy();
  }
});

test('member remove sent through the member it removes: the CLI says what happened, never the next endpoint\'s error', async () => {
  const c = await Cluster.start(3);
  try {
    const n4 = await addFourth(c);
    await n4.waitFor();
    const r = await runCli(['member', 'remove', address(n4), '--endpoints', [n4, c.node(0)].map((n) => n.url).join(',')]);
    assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.not.match(`${r.stdout}${r.stderr}`, 'no majority of the current members');
    const list = await member(['list'], [c.node(1)]);
    assert.not.ok(list.json.members.some((m: { address: string }) => m.address === address(n4)));
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('a change that cannot reach a majority of the current members fails clearly and changes nothing', async () => {
  const c = await Cluster.start(3);
  try {
    const [p] = await freePorts(1);
    const n4 = joiner(c, p!, c.node(0));
    await n4.waitFor('/livez');
    await c.node(1).stop('SIGKILL');
    await c.node(2).stop('SIGKILL');
    const r = await member(['add', address(n4)], [c.node(0)]);
    assert.is(r.code, 1);
    assert.is(r.json.error.code, 'change_failed');
    assert.match(r.json.error.message, 'no majority of the current members (epoch 1');
    c.node(1).start();
    c.node(2).start();
    await c.node(1).waitFor();
    await c.node(2).waitFor();
    const listed = await member(['list'], [c.node(1)]);
    assert.is(listed.json.epoch, 1);
    assert.is(listed.json.members.length, 3);
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('refusals name the problem and change nothing', async () => {
  const c = await Cluster.start(3);
  try {
    const [unused] = await freePorts(1);
    const cases: [string[], string, string][] = [
      [['remove', '127.0.0.1:1'], 'change_refused', 'is not a member of epoch 1'],
      [['add', address(c.node(1))], 'change_refused', 'is already a member'],
      [['add', `127.0.0.1:${unused}`], 'change_refused', `cannot reach 127.0.0.1:${unused}`],
      [['add', 'not an address'], 'bad_request', 'is not host:port'],
      [['replace', address(c.node(1)), address(c.node(1))], 'change_refused', 'changes nothing'],
    ];
    for (const [args, code, message] of cases) {
      const r = await member(args, [c.node(0)]);
      assert.is(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.is(r.json.error.code, code, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.json.error.message, message);
      assert.not.match(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    }
    // Hostile bodies straight to the endpoint.
    for (const body of ['[]', '{"action":"explode"}', '{"action":"remove","member":""}', `{"action":"remove","member":"${'x'.repeat(200)}"}`, '{"action":"add","address":7}']) {
      const r = await http(`${c.node(0).url}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.is(r.status, 400, `${body}: ${r.text}`);
      assert.is(r.body.error.code, 'bad_request');
    }
    // A node of another cluster cannot be added.
    const other = await Cluster.start(1);
    try {
      const r = await member(['add', address(other.node(0))], [c.node(0)]);
      assert.is(r.json.error.code, 'change_refused');
      assert.match(r.json.error.message, 'belongs to another cluster');
    } finally {
      await other.destroy();
    }
    const listed = await member(['list'], [c.node(2)]);
    assert.is(listed.json.epoch, 1, 'nothing changed');
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('peer configuration endpoints refuse malformed states and Paxos messages', async () => {
  const c = await Cluster.start(1);
  try {
    const peer = { 'content-type': 'application/json', 'x-shmem-cluster': (await http(`${c.node(0).url}/status`)).body.cluster.id, 'x-shmem-protocol': '2', 'x-shmem-from': '127.0.0.1:1' };
    const bad: [string, string][] = [
      ['/peer/config', '{"state":{"kind":"stable","current":{"epoch":0,"members":[]}}}'],
      ['/peer/config', '{"state":{"kind":"joint","current":{"epoch":1,"members":[{"id":"a","address":"a:1"}]},"next":{"epoch":5,"members":[{"id":"a","address":"a:1"}]}}}'],
      ['/peer/config', '{"state":"x"}'],
      ['/peer/paxos', '{"op":"accept","slot":2,"ballot":{"round":1,"node":"n"},"value":{"epoch":3,"members":[]}}'],
      ['/peer/paxos', '{"op":"prepare","slot":-1,"ballot":{"round":1,"node":"n"}}'],
    ];
    for (const [path, body] of bad) {
      const r = await http(`${c.node(0).url}${path}`, { method: 'POST', headers: peer, body });
      assert.ok(r.status === 400 || r.status === 409, `${path} ${body}: ${r.status} ${r.text}`);
      assert.ok(typeof r.body.error.message === 'string' && r.body.error.message.length > 0);
    }
    const listed = await member(['list'], [c.node(0)]);
    assert.is(listed.json.epoch, 1, 'nothing changed');
    assert.is((await writeVia(c.node(0), 1, 'still serving')).status, 200);
  } finally {
    await c.destroy();
  }
});

test('a restart with a stale --peers keeps the member set the data dir holds, and says so', async () => {
  const c = await Cluster.start(3);
  try {
    const n4 = await addFourth(c);
    await c.node(0).stop('SIGTERM');
    c.node(0).start(); // still with the founding --peers
    await c.node(0).waitFor();
    assert.match(c.node(0).log, /--peers differs from the member set this data dir holds/);
    const listed = await member(['list'], [c.node(0)]);
    assert.is(listed.json.epoch, 2);
    assert.is(listed.json.members.length, 4);
  } catch (err) {
    (err as Error).message += `\n${c.logs()}`;
    throw err;
  } finally {
    await c.destroy();
  }
});

test('--join that reaches no member gives up with config_invalid naming the endpoints', async () => {
  const dir = tempDir();
  const [p, unused] = await freePorts(2);
  const n = new NodeProcess(p!, [], join(dir, 'n'), ['--join', `127.0.0.1:${unused}`]);
  try {
    n.start();
    const code = await n.waitExit();
    assert.is(code, 2, n.log);
    assert.match(n.log, `--join: none of 127.0.0.1:${unused} gave its member set`);
  } finally {
    await n.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
