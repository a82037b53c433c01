import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loadConfig, readConfigFile, SETTINGS, type SettingName } from '../../src/config/config.js';
import { renderUnit } from '../../src/service/unit.js';
import { ShmemCommand } from '../base.js';
import { rawSettings, settingFlags } from '../setting-flags.js';

/** Every daemon setting a unit may carry: all of them (the data dir has a service default of its own). */
const UNIT_SETTINGS: readonly SettingName[] = (Object.keys(SETTINGS) as SettingName[]).filter((n) => n !== 'dataDir');

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
    'Prints a unit with your settings filled in (every `shmem start` setting is accepted, plus --config and --environment-file). Install it as /etc/systemd/system/shmem.service, then ' +
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
    name: Flags.string({ summary: 'the unit\'s name: its state and cache directories are /var/lib/NAME and /var/cache/NAME (several nodes on one machine need different names)', default: 'shmem' }),
    config: Flags.string({ summary: 'absolute path of a JSON settings file the service reads (`shmem start --config`); flags here win over it' }),
    'environment-file': Flags.string({ summary: 'absolute path of a file of SHMEM_* variables the service reads (EnvironmentFile=)' }),
    ...settingFlags(UNIT_SETTINGS, { fromEnv: false }),
    'data-dir': Flags.string({ summary: `${SETTINGS.dataDir.help} [default: /var/lib/NAME]` }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServiceUnit);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(flags.name)) this.usage(`--name must be letters, digits, . _ - (a unit name), got "${flags.name.slice(0, 40)}"`);
    const dataDir = flags['data-dir'] ?? `/var/lib/${flags.name}`;
    // Validate exactly as `start` would, so the unit cannot hold settings the daemon refuses.
    const raw = rawSettings(flags, UNIT_SETTINGS);
    // A settings file that is on this machine is checked with the flags, as the daemon will read them.
    const file = flags.config !== undefined && existsSync(flags.config) ? readConfigFile(flags.config) : undefined;
    const config = loadConfig({ ...raw, dataDir }, {}, file);
    if (!isAbsolute(dataDir)) this.usage(`--data-dir must be an absolute path for a service, got "${dataDir}"`);
    const binary = flags.binary ?? defaultBinary();
    if (!isAbsolute(binary)) this.usage(`--binary must be an absolute path, got "${binary}"`);
    if (!existsSync(binary)) process.stderr.write(`warning: ${binary} does not exist on this machine\n`);
    const credentials: { name: string; path: string }[] = [];
    const absolute = (flag: string, path: string): string => {
      if (!isAbsolute(path)) this.usage(`${flag} must be an absolute path for a service, got "${path}"`);
      return path;
    };
    // Every setting given, in the settings' order, as the daemon will read it: secrets through
    // LoadCredential= (the command line names %d/<name>, never the secret), other files by path.
    const startArgs = ['--data-dir', dataDir];
    for (const name of UNIT_SETTINGS) {
      const value = raw[name];
      if (value === undefined) continue;
      const s = SETTINGS[name];
      const secret = SECRET_FILES.find((f) => f.setting === name);
      if (secret) {
        credentials.push({ name: secret.credential, path: absolute(s.flag, value) });
        startArgs.push(s.flag, `%d/${secret.credential}`);
      } else if (PLAIN_FILES.includes(name)) {
        startArgs.push(s.flag, absolute(s.flag, value));
      } else if ('boolean' in s) {
        if (value === 'true') startArgs.push(s.flag);
      } else if (name === 'peers') {
        if (config.peers.length > 0) startArgs.push(s.flag, config.peers.join(','));
      } else if (name === 'advertise') {
        startArgs.push(s.flag, config.self);
      } else {
        startArgs.push(s.flag, value.trim());
      }
    }
    if (flags.config !== undefined) startArgs.push('--config', absolute('--config', flags.config));
    const environmentFile = flags['environment-file'] === undefined ? undefined : absolute('--environment-file', flags['environment-file']);
    process.stdout.write(renderUnit({
      binary, startArgs, dataDir, credentials, environmentFile, name: flags.name, description: `shmem node ${config.self} (replicated linearizable shared memory)`,
    }));
  }
}

/** The packaged executable is process.execPath; from a checkout, the launcher bin/shmem. */
function defaultBinary(): string {
  const launcher = resolve(new URL('../../../bin/shmem', import.meta.url).pathname);
  return existsSync(launcher) && !process.execPath.endsWith('/shmem') ? launcher : process.execPath;
}
