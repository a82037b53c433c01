/** The daemon's drain bound (run-daemon.ts: min(op deadline, 10 s)) plus margin for closing. */
export const STOP_TIMEOUT_SEC = 15;

export interface UnitOptions {
  /** Absolute path of the shmem executable. */
  readonly binary: string;
  /** Arguments for `shmem start`, already validated. */
  readonly startArgs: readonly string[];
  readonly description: string;
  /** A data dir outside /var/lib/shmem must be listed as writable under ProtectSystem=strict. */
  readonly dataDir: string;
  /**
   * Secret files handed to the service with LoadCredential= (name, path on the host): systemd
   * copies them where only the service's user can read them (`%d/<name>`), so neither the
   * secret nor a root-only file needs to be readable by the dynamic user.
   */
  readonly credentials?: readonly { readonly name: string; readonly path: string }[];
  /** The unit's name (default shmem): its StateDirectory= and CacheDirectory=. */
  readonly name?: string;
  /** A file of SHMEM_* variables for the service (EnvironmentFile=). */
  readonly environmentFile?: string | undefined;
}

const quote = (arg: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\\\$])/g, '\\\\$1')}"`);

/**
 * A systemd unit for one shmem node: Type=notify (the daemon reports readiness once it
 * serves), a dedicated dynamic user, state and cache directories, SIGTERM with a stop timeout
 * above the daemon's drain, restart on failure, and sandboxing that leaves only the network
 * and the data directory.
 */
export function renderUnit(o: UnitOptions): string {
  const name = o.name ?? 'shmem';
  const extraWritable = o.dataDir === `/var/lib/${name}` || o.dataDir.startsWith(`/var/lib/${name}/`) ? [] : [`ReadWritePaths=${o.dataDir}`];
  return [
    '[Unit]',
    `Description=${o.description}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=notify',
    'NotifyAccess=all',
    ...(o.environmentFile === undefined ? [] : [`EnvironmentFile=${o.environmentFile}`]),
    `ExecStart=${[o.binary, 'start', ...o.startArgs].map(quote).join(' ')}`,
    // `systemctl reload shmem` re-reads certificates, tokens and the cluster secret. kill as the
    // shell's builtin: /bin/kill (procps) is missing on minimal systems, and the reload failed there.
    'ExecReload=/bin/sh -c "kill -HUP $MAINPID"',
    ...(o.credentials ?? []).map((c) => `LoadCredential=${c.name}:${c.path}`),
    'DynamicUser=yes',
    `User=${name}`,
    `StateDirectory=${name}`,
    'StateDirectoryMode=0700',
    `CacheDirectory=${name}`,
    ...extraWritable,
    'Restart=on-failure',
    'RestartSec=1s',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_SEC}s`,
    'TimeoutStartSec=60s',
    'LimitNOFILE=65536',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'CapabilityBoundingSet=',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
