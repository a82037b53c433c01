import { execFile } from 'node:child_process';
import type { Logger } from '../log/logger.js';

/**
 * systemd readiness (Type=notify): when started by systemd (NOTIFY_SOCKET is set), tells it
 * through `systemd-notify` that the node serves. Node.js cannot send on a unix datagram
 * socket itself, hence the helper; the unit sets NotifyAccess=all so a child may send it.
 *
 * Without --no-block, systemd-notify waits until systemd has processed the message (a
 * barrier, systemd 246 and later). With --no-block the helper could exit before systemd read
 * the datagram, and systemd, unable to tell which service a dead process belonged to, dropped
 * it: the unit then hung in "activating" until TimeoutStartSec.
 */
export function notifySystemd(state: 'ready' | 'stopping', status: string, logger: Logger): void {
  if (!process.env['NOTIFY_SOCKET']) return;
  const args = state === 'ready'
    ? ['--ready', `--pid=${process.pid}`, `--status=${status}`]
    : [`--status=${status}`, 'STOPPING=1'];
  send(['systemd-notify', '/usr/bin/systemd-notify', '/bin/systemd-notify'], args, state, logger);
}

/** Tries each candidate in turn while the previous one is not found (a PATH without /usr/bin). */
function send(candidates: readonly string[], args: readonly string[], state: string, logger: Logger): void {
  const [bin, ...rest] = candidates;
  if (bin === undefined) return;
  execFile(bin, args, (err) => {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT' && rest.length > 0) send(rest, args, state, logger);
    else if (err) logger.warn('could not notify systemd', { state, err: err.message });
  });
}
