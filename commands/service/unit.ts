import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loadConfig, SETTINGS, type SettingName } from '../../src/config/config.js';
import { renderUnit } from '../../src/service/unit.js';
import { ShmemCommand } from '../base.js';
import { rawSettings, settingFlags } from '../setting-flags.js';

/** The daemon settings a unit may carry (the data dir has a service default). */
const UNIT_SETTINGS: readonly SettingName[] = [
  'port', 'host', 'advertise', 'peers', 'durability', 'logLevel',
  'tlsCert', 'tlsKey', 'tlsCa', 'tlsClientCa', 'clientCertAuth', 'clusterSecretFile', 'authFile', 'insecure',
];

/** File settings that hold secrets: passed with LoadCredential= and read from the credentials directory (%d). */
const SECRET_FILES: readonly { readonly setting: SettingName; readonly credential: string }[] = [
  { setting: 'tlsKey', credential: 'tls-key' },
  { setting: 'clusterSecretFile', credential: 'cluster-secret' },
];
/** File settings passed as paths (public material, and the auth file, which holds only hashes). */
const PLAIN_FILES: readonly SettingName[] = ['tlsCert', 'tlsCa', 'tlsClientCa', 'authFile'];

export default class ServiceUnit extends ShmemCommand {
  static override summary = 'Print a systemd unit for this node';
  static override description =
    'Prints a unit with your settings filled in. Install it as /etc/systemd/system/shmem.service, then ' +
    '`systemctl daemon-reload && systemctl enable --now shmem`. The node tells systemd when it serves (Type=notify). ' +
    'The TLS key and the cluster secret are passed with LoadCredential= (never on the command line); ' +
    '`systemctl reload shmem` re-reads certificates and tokens.';
  static override examples = [
    '<%= config.bin %> service unit --port 3030 --peers 10.0.0.2:3030,10.0.0.3:3030 --host 0.0.0.0 --advertise 10.0.0.1:3030 ' +
      '--tls-cert /etc/shmem/node.pem --tls-key /etc/shmem/node.key --tls-ca /etc/shmem/ca.pem --auth-file /etc/shmem/auth ' +
      '--cluster-secret-file /etc/shmem/cluster.secret > /etc/systemd/system/shmem.service',
  ];
  static override flags = {
    binary: Flags.string({ summary: 'absolute path of the shmem executable on the server [default: this executable]' }),
    ...settingFlags(UNIT_SETTINGS, { fromEnv: false }),
    'data-dir': Flags.string({ summary: `${SETTINGS.dataDir.help} [default: /var/lib/shmem]` }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServiceUnit);
    const dataDir = flags['data-dir'] ?? '/var/lib/shmem';
    // Validate exactly as `start` would, so the unit cannot hold settings the daemon refuses.
    const raw = rawSettings(flags, UNIT_SETTINGS);
    const config = loadConfig({ ...raw, dataDir }, {});
    if (!isAbsolute(dataDir)) this.usage(`--data-dir must be an absolute path for a service, got "${dataDir}"`);
    const binary = flags.binary ?? defaultBinary();
    if (!isAbsolute(binary)) this.usage(`--binary must be an absolute path, got "${binary}"`);
    if (!existsSync(binary)) process.stderr.write(`warning: ${binary} does not exist on this machine\n`);
    const credentials: { name: string; path: string }[] = [];
    const fileArgs: string[] = [];
    for (const name of PLAIN_FILES) {
      const path = raw[name];
      if (path === undefined) continue;
      if (!isAbsolute(path)) this.usage(`${SETTINGS[name].flag} must be an absolute path for a service, got "${path}"`);
      fileArgs.push(SETTINGS[name].flag, path);
    }
    for (const { setting, credential } of SECRET_FILES) {
      const path = raw[setting];
      if (path === undefined) continue;
      if (!isAbsolute(path)) this.usage(`${SETTINGS[setting].flag} must be an absolute path for a service, got "${path}"`);
      credentials.push({ name: credential, path });
      fileArgs.push(SETTINGS[setting].flag, `%d/${credential}`);
    }
    const startArgs = ['--port', String(config.port), '--host', config.host, '--data-dir', dataDir,
      ...(config.peers.length > 0 ? ['--peers', config.peers.join(',')] : []),
      ...(raw.advertise ? ['--advertise', config.self] : []),
      ...(raw.durability ? ['--durability', config.durability] : []),
      ...(raw.logLevel ? ['--log-level', config.logLevel] : []),
      ...fileArgs,
      ...(config.security.clientCertAuth ? [SETTINGS.clientCertAuth.flag] : []),
      ...(config.insecure ? [SETTINGS.insecure.flag] : [])];
    process.stdout.write(renderUnit({
      binary, startArgs, dataDir, credentials, description: `shmem node ${config.self} (replicated linearizable shared memory)`,
    }));
  }
}

/** The packaged executable is process.execPath; from a checkout, the launcher bin/shmem. */
function defaultBinary(): string {
  const launcher = resolve(new URL('../../../bin/shmem', import.meta.url).pathname);
  return existsSync(launcher) && !process.execPath.endsWith('/shmem') ? launcher : process.execPath;
}
