import { Flags } from '@oclif/core';
import type { MemberList, StatusDoc } from '../src/daemon/status-doc.js';
import { clientOptions } from '../src/cli/client-flags.js';
import { memberUrl } from '../src/config/members.js';
import type { ShmemClient } from '../src/client/shmem-client.js';
import { ClientCommand } from './base.js';

/** How long one member may take to finish with the loss accepted (it copies the members that still have data). */
const FINISH_TIMEOUT_MS = 600_000;
const POLL_MS = 250;

/** One member: serving, recovering by itself, stuck beyond the budget, or what accepting the loss did. */
interface Report {
  readonly member: string;
  readonly outcome: 'not_recovering' | 'recovering' | 'stuck' | 'accepted' | 'refused' | 'unreachable';
  readonly detail: string;
}

export default class Recover extends ClientCommand {
  static override summary = 'Show which members are recovering a wiped data dir; with --accept-data-loss, let those stuck beyond the fault budget finish';
  static override description = 'Without flags: asks every member whether it is recovering a wiped data dir and whether it is stuck, because more members lost their data than a majority tolerates (docs/recovery.md). With --accept-data-loss (admin): asks each stuck member in turn, in the order of --endpoints, to finish its recovery with what the members that still have data hold, and waits until it answers as a replica before the next; a member that can still recover by itself is left alone. Writes acknowledged only by members whose data is gone are lost, and each member logs who accepted that. Put a member restored from a backup (shmem restore) first. Exits 1 when a stuck member could not be brought back.';
  static override examples = [
    '<%= config.bin %> recover',
    '<%= config.bin %> recover --accept-data-loss --endpoints 10.0.0.1:3030,10.0.0.2:3030,10.0.0.3:3030',
  ];

  static override flags = {
    'accept-data-loss': Flags.boolean({ summary: 'Let the members stuck beyond the fault budget finish their recovery, losing the writes only they had', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Recover);
    const client = this.client(flags);
    const accept = flags['accept-data-loss'];
    try {
      const { body, endpoint } = await client.getJson('/members');
      const tls = endpoint.startsWith('https:');
      // The order of --endpoints first (a restored member goes first), then the other members.
      const given = clientOptions(flags).endpoints.map((e) => new URL(e).host);
      const members = (body as MemberList).members.map((m) => m.address)
        .sort((a, b) => rank(given, a) - rank(given, b));
      const reports: Report[] = [];
      for (const member of members) reports.push(await this.one(client, memberUrl(member, tls), member, accept));
      if (reports.some((r) => r.outcome === 'stuck' || r.outcome === 'refused' || (accept && r.outcome === 'unreachable'))) process.exitCode = 1;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ endpoint, acceptDataLoss: accept, members: reports })}\n`);
        return;
      }
      const lines = reports.map((r) => `${r.member}: ${r.detail}`);
      if (reports.some((r) => r.outcome === 'stuck')) {
        lines.push('', 'restore a backup into one of the stuck members (shmem restore), or accept the loss: shmem recover --accept-data-loss');
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      client.close();
    }
  }

  /** One member: its state; with `accept`, asks a stuck one to finish and waits until it has. */
  private async one(client: ShmemClient, url: string, member: string, accept: boolean): Promise<Report> {
    const status = async (): Promise<StatusDoc> => await client.getJsonAt(url, '/status') as StatusDoc;
    let s: StatusDoc;
    try {
      s = await status();
    } catch (err) {
      return { member, outcome: 'unreachable', detail: `not reached: ${(err as Error).message}` };
    }
    const r = s.node.recovery;
    if (!s.node.recovering || r === null) return { member, outcome: 'not_recovering', detail: 'serving as a replica (not recovering)' };
    if (!r.beyondBudget) {
      return { member, outcome: 'recovering', detail: `recovering by itself (${r.sourcesDone.length}/${r.sourcesNeeded} other members copied); left alone` };
    }
    if (!accept) return { member, outcome: 'stuck', detail: `STUCK: ${r.explanation ?? 'beyond the fault budget'}` };
    const answer = await client.postJsonAt(url, '/recovery/accept-data-loss', {}) as { accepted: boolean; reason?: string };
    if (!answer.accepted) return { member, outcome: 'refused', detail: `not accepted: ${answer.reason ?? 'no reason given'}` };
    const deadline = Date.now() + FINISH_TIMEOUT_MS;
    while (Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, POLL_MS));
      try {
        s = await status();
      } catch {
        continue;
      }
      if (!s.node.recovering) return { member, outcome: 'accepted', detail: 'finished its recovery with the loss accepted; serving as a replica (its log says what it copied and from whom)' };
    }
    return { member, outcome: 'refused', detail: `accepted, but still recovering after ${FINISH_TIMEOUT_MS / 1000} s` };
  }
}

/** Position of `member` in the --endpoints given (unlisted members last). */
function rank(given: readonly string[], member: string): number {
  const i = given.indexOf(member);
  return i < 0 ? given.length : i;
}
