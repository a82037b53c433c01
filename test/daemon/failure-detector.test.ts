import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { limits } from '../../src/core/limits.js';
import { FailureDetector } from '../../src/daemon/failure-detector.js';
import { jsonLogger } from '../../src/log/logger.js';
import type { Clock, Timer } from '../../src/platform/clock.js';
import type { MemberLink } from '../../src/transport/peer-link.js';

const test = suite('failure detector');

/** A clock moved by hand; timers fire when it passes them. */
class HandClock implements Clock {
  private t = 0;
  private timers: { at: number; run: () => void; id: number }[] = [];
  private next = 0;
  now(): number { return this.t; }
  wallNow(): number { return this.t; }
  setTimeout(run: () => void, ms: number): Timer {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, run, id });
    return { id };
  }
  clearTimeout(timer: Timer | undefined): void {
    if (timer) this.timers = this.timers.filter((x) => x.id !== timer.id);
  }
  defer(run: () => void): void { run(); }
  /** Moves time on by `ms`, firing due timers, and lets the pings' promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.run();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

const lines: string[] = [];
const logger = jsonLogger('info', {}, { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream);

/** A peer whose pings answer, or fail as a dead process's (nothing listening) or a silent one's do. */
function peer(member: string): { link: MemberLink; mode: 'up' | 'refused' | 'silent' } {
  const p = { mode: 'up' as 'up' | 'refused' | 'silent', link: undefined as unknown as MemberLink };
  p.link = {
    member,
    ping: () => p.mode === 'up' ? Promise.resolve({ nodeId: 'n1', member } as never)
      : Promise.reject(new Error(p.mode === 'refused' ? `stream to ${member} failed: connect ECONNREFUSED ${member}` : `${member} did not answer within 200 ms`)),
  } as unknown as MemberLink;
  return p;
}

const stateOf = (d: FailureDetector, member: string): string => d.health().find((h) => h.member === member)!.state;

/** A started detector watching one peer b:1 (pinged every 100 ms) that answers as `mode` from the start. */
function watch(mode: 'up' | 'refused' | 'silent'): { clock: HandClock; b: ReturnType<typeof peer>; d: FailureDetector } {
  const clock = new HandClock();
  const b = peer('b:1');
  b.mode = mode;
  const d = new FailureDetector([b.link], 100, logger, clock);
  d.start();
  return { clock, b, d };
}

test('a peer whose process is gone (connection refused) is down at the next heartbeat, not after the silence bound; up again when it answers', async () => {
  const { clock, b, d } = watch('up');
  await clock.advance(300);
  assert.is(stateOf(d, 'b:1'), 'up');
  b.mode = 'refused';
  await clock.advance(150);
  assert.ok(150 < limits.suspectAfterMs);
  assert.is(stateOf(d, 'b:1'), 'down', 'refused at the next ping: down at once');
  assert.match(d.health()[0]!.error ?? '', 'ECONNREFUSED');
  b.mode = 'up';
  await clock.advance(150);
  assert.is(stateOf(d, 'b:1'), 'up');
  d.stop();
});

test('a peer that is silent (paused, cut off) still goes suspect, then down, by how long it was silent', async () => {
  const { clock, b, d } = watch('up');
  await clock.advance(300);
  b.mode = 'silent';
  await clock.advance(300);
  assert.is(stateOf(d, 'b:1'), 'up', 'a few missed heartbeats are not yet suspicion');
  await clock.advance(limits.suspectAfterMs);
  assert.is(stateOf(d, 'b:1'), 'suspect');
  await clock.advance(limits.downAfterMs);
  assert.is(stateOf(d, 'b:1'), 'down');
  d.stop();
});

test('a peer never heard from is starting through the start-up grace (it may be starting too), refused or silent, then down', async () => {
  for (const mode of ['refused', 'silent'] as const) {
    lines.length = 0;
    const { clock, d } = watch(mode);
    await clock.advance(200);
    assert.is(stateOf(d, 'b:1'), 'starting', `${mode}: not a failure while the cluster starts`);
    await clock.advance(limits.downAfterMs);
    assert.is(stateOf(d, 'b:1'), 'starting', `${mode}: still within the grace`);
    assert.not.ok(lines.some((l) => l.includes('"peer down"')), 'no "peer down" line in the grace');
    await clock.advance(limits.startingGraceMs);
    assert.is(stateOf(d, 'b:1'), 'down');
    d.stop();
  }
});

test('refresh pings now: what a heartbeat said an interval ago (recovering, never heard from) is replaced by the answer of this moment', async () => {
  const clock = new HandClock();
  let recovering = true;
  const link = { member: 'b:1', ping: () => Promise.resolve({ nodeId: 'n1', member: 'b:1', recovering } as never) } as unknown as MemberLink;
  const d = new FailureDetector([link], 10_000, logger, clock);
  d.start();
  await clock.advance(1);
  assert.is(d.health()[0]!.recovering, true);
  recovering = false; // it finished recovering; the next heartbeat is 10 s away
  await clock.advance(100);
  assert.is(d.health()[0]!.recovering, true, 'the heartbeat is stale');
  await d.refresh(['b:1'], 500);
  assert.is(d.health()[0]!.recovering, false);
  assert.is(stateOf(d, 'b:1'), 'up');
  d.stop();
});

test('refresh waits at most its deadline for a peer that does not answer', async () => {
  const clock = new HandClock();
  const link = { member: 'b:1', ping: () => new Promise(() => {}) } as unknown as MemberLink;
  const d = new FailureDetector([link], 10_000, logger, clock);
  let done = false;
  void d.refresh(['b:1'], 500).then(() => (done = true));
  await clock.advance(499);
  assert.not.ok(done);
  await clock.advance(1);
  await Promise.resolve();
  assert.ok(done);
  assert.is(stateOf(d, 'b:1'), 'starting');
});

test.run();
