import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import type { ReactElement } from 'react';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Dashboard, type TagView } from '../../src/dashboard/Dashboard.js';
import type { DashboardModel, TagRow } from '../../src/dashboard/view-model.js';

const test = suite('dashboard view (ink, at real terminal sizes)');

/** A terminal of a given size that keeps what ink drew (ink-testing-library's is fixed at 100 columns). */
class Terminal extends EventEmitter {
  frames: string[] = [];
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (frame: string): void => {
    this.frames.push(frame);
  };
  last(): string {
    return (this.frames.at(-1) ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  }
}

class Keys extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

function show(tree: ReactElement, columns: number, rows: number): { term: Terminal; keys: Keys; unmount: () => void } {
  const term = new Terminal(columns, rows);
  const keys = new Keys();
  const app = inkRender(tree, { stdout: term as never, stderr: new Terminal(columns, rows) as never, stdin: keys as never, debug: true, exitOnCtrlC: false, patchConsole: false });
  return { term, keys, unmount: () => app.unmount() };
}

const tick = () => new Promise((r) => setTimeout(r, 30));
const tagRows = (from: number, n: number): TagRow[] => Array.from({ length: n }, (_, i) => ({
  addr: from + i, tags: [{ seq: 3, writer: 'aaaaaaaa.1' }, { seq: 3, writer: 'aaaaaaaa.1' }, { seq: 1, writer: 'aaaaaaaa.1' }], behind: [false, false, true],
}));

const model: DashboardModel = {
  endpoint: 'http://127.0.0.1:3030',
  verdict: 'degraded: 2/3 serving (127.0.0.1:3032 down); a quorum needs 2',
  hasQuorum: true,
  members: [
    { member: '127.0.0.1:3030', nodeId: 'aaaaaaaa', state: 'self', recovering: false, rttMs: null, rttHistoryMs: [], lastContactMsAgo: 0, catchup: 'ok' },
    { member: '127.0.0.1:3031', nodeId: 'bbbbbbbb', state: 'up', recovering: false, rttMs: 1.5, rttHistoryMs: [1, 2, 3], lastContactMsAgo: 200, note: 'disk full', catchup: '1204 behind (42 s)' },
    { member: '127.0.0.1:3032', nodeId: 'cccccccc', state: 'down', recovering: true, rttMs: null, rttHistoryMs: [2], lastContactMsAgo: 9000 },
  ],
  traffic: [
    { member: '127.0.0.1:3030', readsPerSec: 12.5, writesPerSec: 3, readP50Ms: 1.25, readP99Ms: 4, writeP50Ms: 2, writeP99Ms: 30, quorumFailures: 2, opsHistory: [1, 5, 15.5], p99History: [4, 30] },
    { member: '127.0.0.1:3031', readsPerSec: 0, writesPerSec: 0, readP50Ms: null, readP99Ms: null, writeP50Ms: null, writeP99Ms: null, quorumFailures: 0 },
    { member: '127.0.0.1:3032', readsPerSec: null, writesPerSec: null, readP50Ms: null, readP99Ms: null, writeP50Ms: null, writeP99Ms: null, quorumFailures: null },
  ],
  tagMembers: ['127.0.0.1:3030', '127.0.0.1:3031', '127.0.0.1:3032'],
  tagRows: [...tagRows(7, 30), { addr: 9007199254740991, tags: [{ seq: 1, writer: 'bbbbbbbb.2' }, null, { seq: 1, writer: 'bbbbbbbb.2' }], behind: [false, false, false] }],
  error: null,
  tagFrom: 7,
  tagsBefore: [1, 2, 3, 4, 5, 6],
};

test('80x24: the verdict on the first line, every panel on screen, nothing wrapped', async () => {
  const { term, unmount } = show(<Dashboard model={model} onTagView={() => {}} intervalMs={1000} />, 80, 24);
  await tick();
  const lines = term.last().split('\n');
  assert.ok(lines.length <= 24, `fits 24 rows (${lines.length})`);
  for (const l of lines) assert.ok([...l].length <= 80, `no line wider than 80: "${l}"`);
  assert.match(lines[0]!, /degraded: 2\/3 serving \(127\.0\.0\.1:3032 down\); a quorum needs 2$/);
  const screen = lines.join('\n');
  for (const title of ['Peers (3)', 'Traffic coordinated by each member', 'Tags from address 7']) assert.match(screen, title);
  assert.match(screen, /127\.0\.0\.1:3031\s+up, disk full/);
  assert.match(screen, /127\.0\.0\.1:3032\s+down, recovering\s+-/, 'a down peer shows no RTT');
  assert.match(screen, /MEMBER\s+OPS\/S\s+FAILED\s+READ p50\/p99\s+WRITE p50\/p99/, 'column headings apart');
  assert.match(screen, /ADDR\s+:3030\s+:3031\s+:3032/, 'members shortened to their ports when they share a host');
  assert.match(screen, /\n7\s+3@aaaaaaaa\.1\s+3@aaaaaaaa\.1\s+1@aaaaaaaa\.1 behind/);
  unmount();
});

test('200x50: more room shows more columns (sparklines of the last minute) and more rows', async () => {
  const { term, unmount } = show(<Dashboard model={model} onTagView={() => {}} intervalMs={1000} />, 200, 50);
  await tick();
  const screen = term.last();
  assert.match(screen, /OPS\/S, LAST MINUTE/);
  assert.match(screen, /p99, LAST MINUTE/);
  assert.match(screen, /RTT HISTORY/);
  assert.match(screen, /CATCH-UP/);
  assert.match(screen, /127\.0\.0\.1:3031 .*1204 behind \(42 s\)/, 'a member behind on catch-up shows how far');
  assert.match(screen, /▁▃█/, 'the ops sparkline');
  const lines = screen.split('\n');
  assert.ok(lines.length <= 50);
  assert.ok(lines.filter((l) => /^\d+\s+\d+@/.test(l)).length > 20, 'more tag rows');
  unmount();
});

test('the largest address does not wrap, at any width', async () => {
  for (const [cols, rows] of [[80, 60], [120, 60]] as const) {
    const { term, unmount } = show(<Dashboard model={model} onTagView={() => {}} intervalMs={1000} />, cols, rows);
    await tick();
    assert.match(term.last(), /\n9007199254740991\s+1@bbbbbbbb\.2\s+\?\s+1@bbbbbbbb\.2/);
    unmount();
  }
});

test('without a quorum a banner says so under the header', async () => {
  const { term, unmount } = show(<Dashboard model={{ ...model, hasQuorum: false, verdict: 'no quorum: 1/3 serving (…); a quorum needs 2' }} onTagView={() => {}} intervalMs={1000} />, 80, 24);
  await tick();
  const lines = term.last().split('\n');
  assert.match(lines[0]!, /no quorum: 1\/3 serving/);
  assert.match(lines[1]!, /NO QUORUM: reads and writes through this node fail/);
  unmount();
});

test('keys: three quick downs scroll three rows, PgDn a page, Home and End, up back into the addresses before', async () => {
  const views: TagView[] = [];
  const { keys, unmount } = show(<Dashboard model={model} onTagView={(v) => views.push(v)} intervalMs={1000} />, 80, 24);
  await tick();
  keys.write('\t');
  await tick();
  keys.write('\t'); // the tags panel
  await tick();
  views.length = 0;
  keys.write('\u001B[B\u001B[B\u001B[B'); // three downs in one chunk, as key repeat sends them
  await tick();
  assert.equal(views.at(-1), { from: 10 }, 'three rows down from 7');
  keys.write('\u001B[6~'); // PgDn
  await tick();
  const page = (views.at(-1) as { from: number }).from - 10;
  assert.ok(page >= 5, `a page is several rows (${page})`);
  keys.write('\u001B[H'); // Home
  await tick();
  assert.equal(views.at(-1), { from: null });
  keys.write('\u001B[F'); // End
  await tick();
  assert.equal(views.at(-1), { end: true });
  unmount();
  const back: TagView[] = [];
  const second = show(<Dashboard model={model} onTagView={(v) => back.push(v)} intervalMs={1000} />, 80, 24);
  await tick();
  second.keys.write('\t');
  await tick();
  second.keys.write('\t');
  await tick();
  second.keys.write('\u001B[A');
  await tick();
  second.keys.write('\u001B[A');
  await tick();
  assert.equal(back.at(-1), { from: 5 }, 'two rows up, into the addresses before 7');
  second.unmount();
});

test('/ jumps to an address', async () => {
  const views: TagView[] = [];
  const { keys, term, unmount } = show(<Dashboard model={model} onTagView={(v) => views.push(v)} intervalMs={1000} />, 80, 24);
  await tick();
  keys.write('/');
  await tick();
  assert.match(term.last(), 'jump to address:');
  keys.write('4');
  await tick();
  keys.write('2');
  await tick();
  keys.write('\r');
  await tick();
  assert.equal(views.at(-1), { from: 42 });
  unmount();
});

test.run();
