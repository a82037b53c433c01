import { render } from 'ink-testing-library';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Dashboard } from '../../src/dashboard/Dashboard.js';
import type { DashboardModel } from '../../src/dashboard/view-model.js';

const test = suite('dashboard view (ink-testing-library)');

const model: DashboardModel = {
  endpoint: 'http://127.0.0.1:3030',
  verdict: 'degraded: 2/3 up',
  hasQuorum: true,
  members: [
    { member: '127.0.0.1:3030', nodeId: 'aaaa', state: 'self', recovering: false, rttMs: null, rttHistoryMs: [], lastContactMsAgo: 0 },
    { member: '127.0.0.1:3031', nodeId: 'bbbb', state: 'up', recovering: false, rttMs: 1.5, rttHistoryMs: [1, 2, 3], lastContactMsAgo: 200 },
    { member: '127.0.0.1:3032', nodeId: 'cccc', state: 'down', recovering: true, rttMs: 2, rttHistoryMs: [2], lastContactMsAgo: 9000 },
  ],
  traffic: [{ member: '127.0.0.1:3030', readsPerSec: 12.5, writesPerSec: 3, readP50Ms: 1.25, readP99Ms: 4, writeP50Ms: 2, writeP99Ms: 30, quorumFailures: 2 }],
  tagMembers: ['127.0.0.1:3030', '127.0.0.1:3031', '127.0.0.1:3032'],
  tagRows: [
    { addr: 7, tags: [{ seq: 3, writer: 'aaaa.1' }, { seq: 3, writer: 'aaaa.1' }, { seq: 1, writer: 'aaaa.1' }], behind: [false, false, true] },
    { addr: 9, tags: [{ seq: 1, writer: 'bbbb.2' }, null, { seq: 1, writer: 'bbbb.2' }], behind: [false, false, false] },
  ],
  error: null,
};

const tick = () => new Promise((r) => setTimeout(r, 30));
/** The frame without colour codes (colour depends on the environment running the tests). */
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');

test('renders peers with state and RTT history, traffic, and tags with lagging replicas marked', () => {
  const { lastFrame, unmount } = render(<Dashboard model={model} onTagCursor={() => {}} intervalMs={1000} />);
  const frame = plain(lastFrame());
  assert.match(frame, 'degraded: 2/3 up');
  assert.match(frame, /127\.0\.0\.1:3031\s+up\s+bbbb\s+1\.50ms\s+▁▅█/);
  assert.match(frame, /127\.0\.0\.1:3032\s+down recovering/);
  assert.match(frame, /12\.5\s+3\s+1\.25ms \/ 4\.00ms\s+2\.00ms \/ 30ms\s+2/);
  assert.match(frame, /7\s+3@aaaa\.1\s+3@aaaa\.1\s+1@aaaa\.1 behind/);
  assert.match(frame, /9\s+1@bbbb\.2\s+\?\s+1@bbbb\.2/);
  unmount();
});

test('/ jumps to an address; down scrolls the tags panel; up goes back', async () => {
  const cursors: (number | null)[] = [];
  const { stdin, lastFrame, unmount } = render(<Dashboard model={model} onTagCursor={(a) => cursors.push(a)} intervalMs={1000} />);
  await tick();
  stdin.write('/');
  await tick();
  assert.match(plain(lastFrame()), 'jump to address:');
  stdin.write('4');
  await tick();
  stdin.write('2');
  await tick();
  stdin.write('\r');
  await tick();
  assert.equal(cursors, [41]);
  assert.match(plain(lastFrame()), 'Tags (after address 41)');
  stdin.write('\u001B[B'); // down: skip the first row (address 7)
  await tick();
  stdin.write('\u001B[A'); // up: back
  await tick();
  assert.equal(cursors, [41, 7, 41]);
  unmount();
});

test.run();
