import { Command, Flags } from '@oclif/core';
import { loadConfig, readConfigFile } from '../src/config/config.js';
import { runDaemon } from '../src/daemon/run-daemon.js';
import { jsonLogger } from '../src/log/logger.js';
import { ShmemCommand } from './base.js';
import { rawSettings, settingFlags } from './setting-flags.js';

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
    const daemon = await runDaemon(config, logger);
    // SIGHUP re-reads certificates, keys, the auth file and the cluster secret (rotation).
    const onHup = (): void => daemon.reload();
    process.on('SIGHUP', onHup);
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGHUP', onHup);
        void daemon.stop(signal).then(resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  }
}
