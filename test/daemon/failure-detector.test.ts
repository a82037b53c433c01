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

test('a peer never heard from that refuses connections keeps the start-up grace (it may be starting too), then is down', async () => {
  lines.length = 0;
  const { clock, d } = watch('refused');
  await clock.advance(200);
  assert.is(stateOf(d, 'b:1'), 'suspect', 'not logged as down while the cluster starts');
  assert.not.ok(lines.some((l) => l.includes('"peer down"')), 'no "peer down" line in the grace');
  await clock.advance(limits.suspectAfterMs);
  assert.is(stateOf(d, 'b:1'), 'down');
  d.stop();
});

test.run();
