import type { ShmemClient } from '../client/shmem-client.js';
import type { MemberList } from '../daemon/status-doc.js';
import { plural } from '../format.js';
import { renderMembers } from './member-view.js';

/** Member changes copy every register to new members: they may take minutes, not the 10 s of a read. */
export const CHANGE_TIMEOUT_MS = 600_000;

/** Sends one change (POST /members) and prints what it did. */
export async function runChange(client: ShmemClient, body: Record<string, string>, json: boolean): Promise<void> {
  const { body: answer, endpoint } = await client.postJson('/members', body);
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
