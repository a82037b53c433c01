import { Flags } from '@oclif/core';
import { ClientCommand } from './base.js';

/** Longest one poll of one member may take: a member that does not answer is shown as unreachable. */
const POLL_TIMEOUT_MS = 800;

export default class Top extends ClientCommand {
  static override summary = 'Live dashboard of peers, traffic and tags';
  static override description =
    'Polls the cluster and shows each member (state, RTT history, last contact), the traffic each member coordinates ' +
    '(rates, p50/p99 latency, quorum failures) and, per address, the tag every replica holds, marking replicas ' +
    'that are behind. Keys: q quit, tab switch panel, arrows scroll, / jump to an address. Needs a terminal; ' +
    'with --json it prints one snapshot of the same data and exits.';
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --interval 500 --endpoints 127.0.0.1:3030,127.0.0.1:3031'];
  static override flags = {
    interval: Flags.integer({ summary: 'Milliseconds between refreshes', default: 1000, min: 100, max: 60_000 }),
    rows: Flags.integer({ summary: 'Addresses shown in the tags panel', default: 10, min: 1, max: 100 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Top);
    // The same client as every other command (TLS, token), with a short deadline per poll.
    const client = this.client(flags, Math.min(flags['timeout-ms'], POLL_TIMEOUT_MS));
    if (flags.json) {
      // One snapshot of what the dashboard would show, for scripts (no terminal needed).
      try {
        const { Poller } = await import('../src/dashboard/poller.js');
        process.stdout.write(`${JSON.stringify(await new Poller(client, flags.rows).poll(null))}\n`);
      } finally {
        client.close();
      }
      return;
    }
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      this.usage('shmem top needs an interactive terminal (stdin and stdout must be a TTY); for a one-shot view use `shmem status`, in scripts `shmem status --json`');
    }
    // Loaded only here: ink, React and yoga cost every other command start-up time and memory.
    const [{ render }, { App }] = await Promise.all([import('ink'), import('../src/dashboard/App.js')]);
    const app = render(<App client={client} intervalMs={flags.interval} tagRows={flags.rows} />, {
      alternateScreen: true, interactive: true, exitOnCtrlC: true,
    });
    try {
      await app.waitUntilExit();
    } finally {
      client.close();
    }
  }
}
