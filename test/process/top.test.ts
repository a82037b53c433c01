import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, runCli, SHMEM_BIN, tempDir, writeVia } from '../helpers/cluster.js';
import { TestPki } from '../helpers/certs.js';

const test = suite('shmem top in a real terminal (tmux)');
const SOCKET = `shmem-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const pane = (): string => tmux('capture-pane', '-p', '-t', 'top');

async function waitForPane(what: string, ok: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = pane();
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the dashboard never showed ${what}; screen:\n${text}`);
}

test('shows the cluster, survives a node going down and a resize, jumps to an address, and q restores the terminal', async () => {
  const c = await Cluster.start(3);
  try {
    for (const a of [1, 2, 3]) assert.is((await writeVia(c.node(0), a, `v${a}`)).status, 200);
    // A packaged executable runs with no Node on PATH; the checkout's launcher needs the usual PATH.
    const env = process.env['SHMEM_BIN'] ? 'env PATH=/nonexistent-no-node-here ' : '';
    const command = `${env}${SHMEM_BIN} top --interval 300 --endpoints ${c.endpoints()}; echo SHMEM-TOP-EXITED=$?; sleep 600`;
    tmux('new-session', '-d', '-s', 'top', '-x', '130', '-y', '45', command);
    await waitForPane('three members with a quorum', (t) => t.includes('quorum ok: 3/3 serving') && c.nodes.every((n) => t.includes(`127.0.0.1:${n.port}`)));

    await c.node(2).stop('SIGKILL');
    const down = await waitForPane('the killed node suspect or down', (t) => /degraded: 2\/3 serving/.test(t));
    assert.match(down, new RegExp(`127\\.0\\.0\\.1:${c.node(2).port}\\s+(suspect|down)`));

    // A write while it is down: once back, catch-up brings it the write (no client reads it),
    // so address 2 shows the same tag on all three and no "behind" mark, and its catch-up is ok.
    const w = await writeVia(c.node(0), 2, 'newer');
    assert.is(w.status, 200);
    c.node(2).start();
    await c.node(2).waitFor();
    const tag = `${w.body.tag.seq}@${w.body.tag.writer}`.slice(0, 10);
    const okRow = new RegExp(`127\\.0\\.0\\.1:${c.node(2).port}\\s+up.*\\sok\\s`);
    await waitForPane("the restarted replica caught up at address 2, and its catch-up ok", (t) => {
      const row = t.split('\n').find((l) => /^2\s/.test(l));
      return row !== undefined && row.split(tag).length === 4 && !row.includes('behind') && okRow.test(t);
    });

    tmux('resize-window', '-t', 'top', '-x', '100', '-y', '40');
    await waitForPane('the dashboard after a resize', (t) => t.includes('Peers') && t.includes('quorum ok: 3/3 serving'));

    tmux('send-keys', '-t', 'top', '/', '3', 'Enter');
    await waitForPane('the tags panel after a jump to address 3', (t) => t.includes('Tags from address 3') && /\n3\s/.test(t));

    tmux('send-keys', '-t', 'top', 'q');
    const after = await waitForPane('the shell after q', (t) => t.includes('SHMEM-TOP-EXITED=0'));
    assert.not.match(after, 'Peers', 'the dashboard screen is gone (alternate screen restored)');
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await c.destroy();
  }
});

test('over https with mutual TLS and a read token: the same dashboard, every member polled through the same client', async () => {
  const pki = TestPki.make();
  const dir = tempDir('shmem-top-auth-');
  let c: Cluster | undefined;
  try {
    const tokens = JSON.parse((await runCli(['token', 'create', '--role', 'read', '--name', 'top', '--json'])).stdout);
    const writer = JSON.parse((await runCli(['token', 'create', '--role', 'write', '--name', 'w', '--json'])).stdout);
    writeFileSync(join(dir, 'auth'), `${tokens.authFileLine}\n${writer.authFileLine}\n`);
    c = await Cluster.start(3, [...pki.memberFlags(), '--auth-file', join(dir, 'auth')], { ca: pki.ca, token: writer.token });
    assert.is((await writeVia(c.node(0), 1, 'secure')).status, 200);
    const env = `env ${process.env['SHMEM_BIN'] ? 'PATH=/nonexistent-no-node-here ' : ''}SHMEM_CACERT=${pki.ca} SHMEM_TOKEN=${tokens.token} `;
    const endpoints = c.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
    tmux('new-session', '-d', '-s', 'top', '-x', '130', '-y', '45', `${env}${SHMEM_BIN} top --interval 300 --endpoints ${endpoints}; echo SHMEM-TOP-EXITED=$?; sleep 600`);
    const screen = await waitForPane('three members over https with the tag of address 1 on each', (t) => t.includes('quorum ok: 3/3 serving')
      && c!.nodes.every((n) => t.includes(`127.0.0.1:${n.port}`)) && /\n1\s+1@\S+\s+1@\S+\s+1@\S+/.test(t));
    // (Not a bare "401": the random ports on screen may contain those digits.)
    assert.not.match(screen, /unreachable|unauthenticated|HTTP 401|permission_denied/, screen);
    tmux('send-keys', '-t', 'top', 'q');
    await waitForPane('the shell after q', (t) => t.includes('SHMEM-TOP-EXITED=0'));
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await c?.destroy();
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('at 80x24 the verdict stays on the first line and every panel is on screen; at 200x50 more; keys scroll tags by row and page', async () => {
  const c = await Cluster.start(3);
  try {
    for (let a = 1; a <= 40; a++) assert.is((await writeVia(c.node(a % 3), a, `v${a}`)).status, 200);
    const env = process.env['SHMEM_BIN'] ? 'env PATH=/nonexistent-no-node-here ' : '';
    tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', `${env}${SHMEM_BIN} top --interval 300 --endpoints ${c.endpoints()}; echo SHMEM-TOP-EXITED=$?; sleep 600`);
    const small = await waitForPane('the dashboard at 80x24 with its first tags', (t) => t.includes('quorum ok: 3/3 serving') && /\n1\s+1@/.test(t));
    const lines = small.split('\n');
    assert.match(lines[0]!, /quorum ok: 3\/3 serving/, 'the verdict on the first line');
    for (const title of ['Peers (3)', 'Traffic coordinated', 'Tags']) assert.match(small, title);
    for (const l of lines) assert.ok([...l].length <= 80, `nothing wider than the terminal: "${l}"`);
    tmux('send-keys', '-t', 'top', 'Tab', 'Tab', 'Down', 'Down', 'Down');
    await waitForPane('three rows down', (t) => t.includes('Tags from address 4') && /\n4\s+1@/.test(t));
    tmux('send-keys', '-t', 'top', 'NPage');
    await waitForPane('a page down', (t) => /Tags from address (1[0-9]|2[0-9])/.test(t));
    tmux('send-keys', '-t', 'top', 'Home');
    await waitForPane('back at the start', (t) => /── Tags ─/.test(t) && /\n1\s+1@/.test(t));
    tmux('send-keys', '-t', 'top', 'End');
    await waitForPane('the last page', (t) => /\n40\s+1@/.test(t));
    tmux('resize-window', '-t', 'top', '-x', '200', '-y', '50');
    const big = await waitForPane('the dashboard at 200x50 with sparklines', (t) => t.includes('OPS/S, LAST MINUTE') && t.includes('RTT HISTORY'));
    assert.match(big.split('\n')[0]!, /quorum ok: 3\/3 serving/);
    tmux('send-keys', '-t', 'top', 'q');
    await waitForPane('the shell after q', (t) => t.includes('SHMEM-TOP-EXITED=0'));
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await c.destroy();
  }
});

test('without a terminal, top says so and points to status', async () => {
  const r = await runCli(['top']);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'needs an interactive terminal');
  assert.match(r.stderr, 'shmem status');
});

test.run();
