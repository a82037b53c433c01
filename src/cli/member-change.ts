import type { ShmemClient } from '../client/shmem-client.js';
import type { MemberList, MemberRow } from '../daemon/status-doc.js';
import { parseMemberAddress } from '../config/members.js';
import { ChangeUnknownError } from '../errors.js';
import { plural } from '../format.js';
import { renderMembers } from './member-view.js';

/** Member changes copy every register to new members: they may take minutes, not the 10 s of a read. */
export const CHANGE_TIMEOUT_MS = 600_000;

/** A change as `shmem member` sends it (POST /members). */
export type ChangeBody =
  | { readonly action: 'add'; readonly address: string }
  | { readonly action: 'remove'; readonly member: string }
  | { readonly action: 'replace'; readonly member: string; readonly address: string };

/**
 * Sends one change (POST /members) and prints what it did. A change is never sent twice: when
 * its answer is lost (the node that ran it was the one removed, or it went away), the member
 * list of the other endpoints says whether it happened; if it cannot tell, the command says so
 * (change_unknown, exit 1) rather than report the next endpoint's error as the outcome.
 */
export async function runChange(client: ShmemClient, body: ChangeBody, json: boolean): Promise<void> {
  const sent = await client.postOnce('/members', body);
  if ('lost' in sent) {
    await reportLost(client, body, sent.endpoint, sent.lost, json);
    return;
  }
  const { body: answer, endpoint } = sent;
  const a = answer as { epoch: number; change: string; registersCopied: number; ms: number; superseded?: string; list: MemberList };
  if (json) {
    process.stdout.write(`${JSON.stringify({ endpoint, ...a })}\n`);
    return;
  }
  const lines = [
    a.superseded ? `not made: ${a.superseded}` : `epoch ${a.epoch}: ${a.change} (${plural(a.registersCopied, 'register')} copied, ${(a.ms / 1000).toFixed(1)} s)`,
    '',
    renderMembers(a.list),
  ];
  process.stdout.write(lines.join('\n'));
  if (a.superseded) process.exitCode = 1;
}

/**
 * How long the CLI watches a change that the member list shows under way (its joint phase: the
 * new set was chosen, and the members finish it by themselves) before it says so instead of "done".
 */
const FINISH_WAIT_MS = 30_000;
const FINISH_POLL_MS = 200;

/** The answer of `endpoint` was lost after the change was sent: what the member list says now. */
async function reportLost(client: ShmemClient, body: ChangeBody, endpoint: string, why: string, json: boolean): Promise<void> {
  let list: MemberList | undefined;
  let from = '';
  let listProblem = '';
  let verdict: 'done' | 'in progress' | 'unknown' = 'unknown';
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, FINISH_POLL_MS))) {
    try {
      // Ask the other members first: the one that ran the change may be the one it removed.
      const got = await client.getJson('/members', [endpoint]);
      list = got.body as MemberList;
      from = got.endpoint;
      listProblem = '';
    } catch (err) {
      listProblem = (err as Error).message;
    }
    verdict = list ? outcome(body, list) : 'unknown';
    // A change seen in its joint phase was chosen: it completes on its own, so wait for that.
    if (verdict !== 'in progress' || Date.now() - started > FINISH_WAIT_MS) break;
  }
  const what = describe(body);
  if (verdict === 'done') {
    if (json) {
      process.stdout.write(`${JSON.stringify({ endpoint, outcome: 'done', change: what, answerLost: why, list })}\n`);
      return;
    }
    process.stdout.write([
      `epoch ${list!.epoch}: ${what}: done (the answer of ${endpoint} was lost: ${why}; the member list of ${from} shows the change in force)`,
      '', renderMembers(list!),
    ].join('\n'));
    return;
  }
  const state = verdict === 'in progress'
    ? `the member list of ${from} shows it in progress (epoch ${list!.epoch}, ${list!.phase}); it finishes by itself`
    : list ? `the member list of ${from} does not show it (epoch ${list.epoch}): it may still be under way` : `no member list could be read (${listProblem})`;
  throw new ChangeUnknownError(`${what}: sent to ${endpoint}, whose answer was lost (${why}), so it may or may not have happened: ${state}`, {
    hint: 'check with `shmem member list`, and run the command again only if the change is not there',
  });
}

/** Whether the member list shows the change done, under way (a joint phase), or neither. */
function outcome(body: ChangeBody, list: MemberList): 'done' | 'in progress' | 'unknown' {
  const find = (who: string): MemberRow | undefined => {
    const parsed = parseMemberAddress(who);
    const address = parsed.ok ? parsed.member : undefined;
    return list.members.find((m) => m.address === address || m.id === who || m.nodeId === who);
  };
  const gone = (who: string): 'done' | 'in progress' | 'unknown' => {
    const row = find(who);
    return row === undefined ? 'done' : row.state === 'leaving' ? 'in progress' : 'unknown';
  };
  const there = (who: string): 'done' | 'in progress' | 'unknown' => {
    const row = find(who);
    return row?.state === 'voting' ? 'done' : row?.state === 'joining' ? 'in progress' : 'unknown';
  };
  const parts = body.action === 'add' ? [there(body.address)] : body.action === 'remove' ? [gone(body.member)] : [gone(body.member), there(body.address)];
  if (parts.every((p) => p === 'done')) return 'done';
  return parts.every((p) => p !== 'unknown') ? 'in progress' : 'unknown';
}

function describe(body: ChangeBody): string {
  return body.action === 'add' ? `add ${body.address}` : body.action === 'remove' ? `remove ${body.member}` : `replace ${body.member} by ${body.address}`;
}
