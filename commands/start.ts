import { Command, Flags } from '@oclif/core';
import { loadConfig, readConfigFile } from '../src/config/config.js';
import { limits } from '../src/core/limits.js';
import { runDaemon } from '../src/daemon/run-daemon.js';
import { jsonLogger } from '../src/log/logger.js';
import { ShmemCommand } from './base.js';
import { rawSettings, settingFlags } from './setting-flags.js';

/** Beyond the drain: closing connections, links and the database. */
const STOP_SLACK_MS = 3_000;

export default class Start extends ShmemCommand {
  static override summary = 'Run a shmem node (the daemon)';
  static override description =
    'Serves the client API and the replica API on one port. --peers lists the OTHER members; every member must be ' +
    'started with the same member set. Logs JSON lines to stdout; SIGTERM or SIGINT shuts down cleanly; SIGHUP ' +
    're-reads certificates, the auth file and the cluster secret. Listening beyond loopback needs TLS and client ' +
    'authentication, or --insecure.';
  static override examples = [
    '<%= config.bin %> start --port 3030 --peers 127.0.0.1:3031,127.0.0.1:3032 --data-dir /var/lib/shmem',
  ];
  static override flags = {
    config: Flags.string({ summary: 'JSON file of settings (keys: port, peers, dataDir, ...); flags and env win over it (env SHMEM_CONFIG)' }),
    ...settingFlags(),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start as unknown as typeof Command);
    const raw = rawSettings(flags as Record<string, unknown>);
    const configPath = (flags as { config?: string }).config ?? process.env['SHMEM_CONFIG'];
    const config = loadConfig(raw, process.env, configPath === undefined || configPath === '' ? undefined : readConfigFile(configPath));
    const logger = jsonLogger(config.logLevel, { node: config.self });
    process.on('uncaughtException', (err) => {
      logger.error('fatal error, exiting', { err: String(err.stack ?? err) });
      process.exit(70);
    });
    // SIGHUP must never stop the node (Node's default is to exit at once): until the daemon can
    // reload, it is logged and ignored; from then on it re-reads certificates, keys, the auth
    // file and the cluster secret (rotation).
    let reload: (() => void) | undefined;
    const onHup = (): void => {
      if (reload) reload();
      else logger.info('SIGHUP before the node is up: nothing to reload yet');
    };
    process.on('SIGHUP', onHup);
    let stopRequested: NodeJS.Signals | undefined;
    const early = (signal: NodeJS.Signals): void => {
      stopRequested = signal;
    };
    process.on('SIGTERM', early);
    process.on('SIGINT', early);
    const daemon = await runDaemon(config, logger);
    process.off('SIGTERM', early);
    process.off('SIGINT', early);
    reload = () => daemon.reload();
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        // Whatever state the node is in, it exits within the documented bound.
        setTimeout(() => {
          logger.error('shutdown took too long; exiting anyway', { boundMs: limits.drainMsMax + STOP_SLACK_MS });
          process.exit(1);
        }, limits.drainMsMax + STOP_SLACK_MS).unref();
        void daemon.stop(signal).then(resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      if (stopRequested !== undefined) onSignal(stopRequested);
    });
    process.off('SIGHUP', onHup);
  }
}
