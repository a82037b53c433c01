import { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { limits } from '../core/limits.js';
import type { MemberId } from '../core/types.js';
import { ConfigError } from '../errors.js';
import type { SecuritySettings } from '../security/credentials.js';
import type { Durability } from '../storage/sqlite-store.js';
import { readSettingsFile, SETTINGS_FILE_BYTES_MAX } from './files.js';
import { canonicalMembers, parseMemberAddress, splitMember } from './members.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The daemon's configuration, built once at start-up and frozen. Names carry units. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /** This node's member id (`host:port` that the other members use to reach it). */
  readonly self: MemberId;
  /** The other members. */
  readonly peers: readonly MemberId[];
  /** Every member, self included, sorted. */
  readonly members: readonly MemberId[];
  /** Members to ask for the configuration when this node's data dir is new and it joins a running cluster (--join). */
  readonly join: readonly MemberId[];
  readonly dataDir: string;
  readonly durability: Durability;
  readonly valueBytesMax: number;
  readonly opDeadlineMs: number;
  readonly peerRequestDeadlineMs: number;
  readonly heartbeatIntervalMs: number;
  /** Most open client and peer connections, and most from one source address (docs/flow-control.md). */
  readonly connectionsMax: number;
  readonly connectionsPerSourceMax: number;
  readonly logLevel: LogLevel;
  /** TLS, client certificates, cluster secret and tokens (file paths; contents are read by security/). */
  readonly security: SecuritySettings;
  /** The operator allowed listening beyond loopback without TLS and client authentication. */
  readonly insecure: boolean;
}

/** Raw settings as strings, keyed by setting name; undefined = not given. */
export type RawSettings = Partial<Record<SettingName, string>>;

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly fallback?: string;
  readonly help: string;
  /** A switch: the flag takes no value; env and file give true or false. */
  readonly boolean?: true;
  /** How the default reads in the docs when it is not a plain value ("required", "none", "host:port"). */
  readonly shown?: string;
}

/**
 * Every daemon setting: its flag, its environment variable, its default, and what it means.
 * The README's settings table is generated from this (src/config/settings-doc.ts; a test keeps
 * them equal), `shmem start --help` and `shmem service unit` take their flags from it.
 */
export const SETTINGS = {
  port: { flag: '--port', env: 'SHMEM_PORT', fallback: '3030', help: 'TCP port for clients and peers' },
  host: { flag: '--host', env: 'SHMEM_HOST', fallback: '127.0.0.1', help: 'address to listen on; beyond loopback it needs TLS and client authentication, or --insecure' },
  advertise: { flag: '--advertise', env: 'SHMEM_ADVERTISE', shown: 'host:port', help: 'host:port the other members use for this node (required with --host 0.0.0.0)' },
  peers: { flag: '--peers', env: 'SHMEM_PEERS', fallback: '', shown: 'none', help: 'the other founding members of a new cluster, comma-separated host:port or URLs (in a config file: a string or an array); a data dir that has a member set keeps it' },
  join: { flag: '--join', env: 'SHMEM_JOIN', fallback: '', shown: 'none', help: 'members of a running cluster to join, comma-separated host:port or URLs: a new node fetches the member set from them (then `shmem member add` it)' },
  dataDir: { flag: '--data-dir', env: 'SHMEM_DATA_DIR', shown: 'required', help: 'directory of the SQLite database (created with mode 0700)' },
  durability: { flag: '--durability', env: 'SHMEM_DURABILITY', fallback: 'full', help: 'full: fsync every commit; normal: survives a process crash, not a power loss' },
  valueBytesMax: { flag: '--value-bytes-max', env: 'SHMEM_VALUE_BYTES_MAX', fallback: String(limits.valueBytesDefault), help: `largest value in UTF-8 bytes (at most ${limits.valueBytesMax})` },
  opDeadlineMs: { flag: '--op-deadline-ms', env: 'SHMEM_OP_DEADLINE_MS', fallback: String(limits.opDeadlineMsDefault), help: 'deadline of one read or write before quorum_unavailable' },
  peerRequestDeadlineMs: { flag: '--peer-deadline-ms', env: 'SHMEM_PEER_DEADLINE_MS', fallback: String(limits.peerRequestDeadlineMsDefault), help: 'a peer stream with requests outstanding that receives nothing for this long is dropped and its requests retried' },
  heartbeatIntervalMs: { flag: '--heartbeat-ms', env: 'SHMEM_HEARTBEAT_MS', fallback: String(limits.heartbeatIntervalMsDefault), help: 'period of heartbeats to peers (status, readiness and logs only; never safety)' },
  connectionsMax: { flag: '--connections-max', env: 'SHMEM_CONNECTIONS_MAX', fallback: String(limits.connectionsMaxDefault), help: `most open connections, clients and peers (never more than the open-file limit minus ${limits.fileDescriptorsReserve}); more are closed at once` },
  connectionsPerSourceMax: { flag: '--connections-per-source-max', env: 'SHMEM_CONNECTIONS_PER_SOURCE_MAX', fallback: String(limits.connectionsPerSourceMaxDefault), help: 'most open connections from one address (never more than a quarter of --connections-max)' },
  logLevel: { flag: '--log-level', env: 'SHMEM_LOG_LEVEL', fallback: 'info', help: 'debug, info, warn or error' },
  tlsCert: { flag: '--tls-cert', env: 'SHMEM_TLS_CERT', shown: 'none', help: 'PEM certificate of this node; turns on HTTPS for clients and peers (with --tls-key and --tls-ca)' },
  tlsKey: { flag: '--tls-key', env: 'SHMEM_TLS_KEY', shown: 'none', help: 'PEM private key of --tls-cert (unencrypted)' },
  tlsCa: { flag: '--tls-ca', env: 'SHMEM_TLS_CA', shown: 'none', help: 'PEM CA that signs the members\' certificates; peers are verified against it both ways' },
  tlsClientCa: { flag: '--tls-client-ca', env: 'SHMEM_TLS_CLIENT_CA', shown: '--tls-ca', help: 'PEM CA that signs client certificates' },
  clientCertAuth: { flag: '--client-cert-auth', env: 'SHMEM_CLIENT_CERT_AUTH', fallback: 'false', boolean: true, help: 'clients must present a certificate from the client CA' },
  clusterSecretFile: { flag: '--cluster-secret-file', env: 'SHMEM_CLUSTER_SECRET_FILE', shown: 'none', help: 'file with the secret every peer request proves (16 to 4096 bytes; the same file on every member)' },
  authFile: { flag: '--auth-file', env: 'SHMEM_AUTH_FILE', shown: 'none', help: 'client tokens with roles (shmem token create); turns on token auth' },
  insecure: { flag: '--insecure', env: 'SHMEM_INSECURE', fallback: 'false', boolean: true, help: 'allow a non-loopback --host without TLS and client authentication' },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Settings read from a JSON config file, with the file's path for messages. */
export interface FileSettings {
  readonly path: string;
  readonly settings: RawSettings;
}

/**
 * Reads a JSON config file: an object whose keys are setting names (`port`, `peers`,
 * `dataDir`, ...; `peers` may be an array). Throws ConfigError naming the file and the key.
 */
export function readConfigFile(path: string): FileSettings {
  const text = readSettingsFile(path, 'config file', SETTINGS_FILE_BYTES_MAX).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`config file ${path}: must be a JSON object`);
  const settings: RawSettings = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (!Object.hasOwn(SETTINGS, key)) {
      // Own keys only: "toString" or "constructor" are not settings.
      problems.push(`"${key.length > 40 ? `${key.slice(0, 40)}…` : key}" is not a setting (known: ${Object.keys(SETTINGS).join(', ')})`);
    } else if ((key === 'peers' || key === 'join') && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      settings[key] = value.join(',');
    } else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      settings[key as SettingName] = String(value);
    } else {
      problems.push(`"${key}" must be a string${key === 'peers' ? ' or an array of strings' : ' or a number'}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10);
    if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
    throw new ConfigError(`config file ${path}:\n  - ${shown.join('\n  - ')}`);
  }
  return { path, settings };
}

/**
 * True when `member` is this node under another spelling: our listening port at an address
 * of this machine (loopback, localhost, an interface address, or the --host we listen on).
 * DNS names other than localhost are not resolved here; the peer guard catches those at run
 * time by node id.
 */
function isThisNode(member: MemberId, port: number, host: string): boolean {
  const { host: memberHost, port: memberPort } = splitMember(member);
  if (memberPort !== port) return false;
  if (memberHost === host) return true;
  // Listening on 127.0.0.1: localhost reaches it. Listening everywhere: every local address does.
  if (isLoopback(host)) return memberHost === 'localhost';
  if (host !== '0.0.0.0' && host !== '::') return false;
  if (isLoopback(memberHost)) return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address.toLowerCase() === memberHost));
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The security settings, with the rules that span them. */
function securitySettings(
  path: (name: SettingName) => string | undefined, bool: (name: SettingName) => boolean, problems: string[],
): SecuritySettings {
  const cert = path('tlsCert');
  const key = path('tlsKey');
  const ca = path('tlsCa');
  const clientCa = path('tlsClientCa');
  const given = [cert, key, ca].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    problems.push(`TLS needs all of ${SETTINGS.tlsCert.flag}, ${SETTINGS.tlsKey.flag} and ${SETTINGS.tlsCa.flag}, or none of them`);
  }
  const tls = given === 3 ? { cert: cert!, key: key!, ca: ca!, clientCa } : undefined;
  const clientCertAuth = bool('clientCertAuth');
  if (tls === undefined && clientCertAuth) problems.push(`${SETTINGS.clientCertAuth.flag} needs TLS (${SETTINGS.tlsCert.flag}, ${SETTINGS.tlsKey.flag}, ${SETTINGS.tlsCa.flag})`);
  if (tls === undefined && clientCa !== undefined) problems.push(`${SETTINGS.tlsClientCa.flag} needs TLS (${SETTINGS.tlsCert.flag}, ${SETTINGS.tlsKey.flag}, ${SETTINGS.tlsCa.flag})`);
  return { tls, clientCertAuth, clusterSecretFile: path('clusterSecretFile'), authFile: path('authFile') };
}

/**
 * Builds the Config from flags, then SHMEM_* environment variables, then the config file,
 * then defaults, and validates every value. All problems are reported together, each naming
 * its setting and where the value came from.
 */
export function loadConfig(flags: RawSettings, env: NodeJS.ProcessEnv = process.env, file?: FileSettings): Config {
  const problems: string[] = [];
  const pick = (name: SettingName): { value: string | undefined; source: string } => {
    const s: Setting = SETTINGS[name];
    if (flags[name] !== undefined) return { value: flags[name], source: s.flag };
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: s.env };
    if (file?.settings[name] !== undefined) return { value: file.settings[name], source: `"${name}" in ${file.path}` };
    return { value: s.fallback, source: `default of ${s.flag}` };
  };
  const int = (name: SettingName, min: number, max: number): number => {
    const { value, source } = pick(name);
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${source}: "${value ?? ''}" must be an integer from ${min} to ${max}`);
      return min;
    }
    return n;
  };
  const bool = (name: SettingName): boolean => oneOf(name, ['false', 'true'] as const) === 'true';
  const path = (name: SettingName): string | undefined => {
    const { value, source } = pick(name);
    if (value === undefined) return undefined;
    if (value.trim() === '') {
      problems.push(`${source}: is empty; give a file path`);
      return undefined;
    }
    return value;
  };
  const oneOf = <T extends string>(name: SettingName, allowed: readonly T[]): T => {
    const { value, source } = pick(name);
    if (!allowed.includes(value as T)) {
      problems.push(`${source}: "${value ?? ''}" must be one of ${allowed.join(', ')}`);
      return allowed[0]!;
    }
    return value as T;
  };

  const hostSetting = pick('host');
  // The address to listen on, without IPv6 brackets (--host [::1] and --host ::1 are the same).
  const host = (hostSetting.value ?? '127.0.0.1').trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) {
    problems.push(`${hostSetting.source}: "${host.slice(0, 60)}" is not an IP address or a host name`);
  }
  const port = int('port', 1, 65535);
  // Whether members speak https: a member named by URL must say so too (members.ts).
  const memberTls = pick('tlsCert').value !== undefined;
  const advertise = pick('advertise');
  let self: MemberId = `${isIPv6(host) ? `[${host}]` : host}:${port}`;
  if (advertise.value !== undefined) {
    const parsed = parseMemberAddress(advertise.value, memberTls);
    if (parsed.ok) self = parsed.member;
    else problems.push(`${advertise.source}: ${parsed.message}`);
  } else if (host === '0.0.0.0' || host === '::') {
    problems.push(`${SETTINGS.host.flag} ${host} listens on every interface: give ${SETTINGS.advertise.flag} host:port so peers know how to reach this node`);
  } else {
    const parsed = parseMemberAddress(self);
    if (parsed.ok) self = parsed.member;
    else problems.push(`${pick('host').source}: ${parsed.message}`);
  }

  const peersRaw = pick('peers');
  const peers: MemberId[] = [];
  for (const text of (peersRaw.value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const parsed = parseMemberAddress(text, memberTls);
    if (!parsed.ok) problems.push(`${peersRaw.source}: ${parsed.message}`);
    else if (parsed.member === self) problems.push(`${peersRaw.source}: lists this node itself (${self}); list only the other members`);
    else if (isThisNode(parsed.member, port, host)) {
      problems.push(`${peersRaw.source}: ${parsed.member} is this node itself (port ${port} on an address of this machine); list only the other members`);
    }
    else if (peers.includes(parsed.member)) problems.push(`${peersRaw.source}: lists ${parsed.member} twice`);
    else peers.push(parsed.member);
  }
  if (peers.length + 1 > limits.membersMax) {
    problems.push(`${peersRaw.source}: ${peers.length + 1} members, at most ${limits.membersMax} are supported`);
  }

  const joinRaw = pick('join');
  const join: MemberId[] = [];
  for (const text of (joinRaw.value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const parsed = parseMemberAddress(text, memberTls);
    if (!parsed.ok) problems.push(`${joinRaw.source}: ${parsed.message}`);
    else if (parsed.member === self || isThisNode(parsed.member, port, host)) problems.push(`${joinRaw.source}: ${parsed.member} is this node itself; name members of the running cluster`);
    else if (!join.includes(parsed.member)) join.push(parsed.member);
  }
  if (join.length > 0 && peers.length > 0) {
    problems.push(`${joinRaw.source} and ${peersRaw.source} exclude each other: --peers founds a new cluster, --join joins a running one`);
  }
  if (join.length > limits.membersMax) problems.push(`${joinRaw.source}: ${join.length} endpoints, at most ${limits.membersMax}`);

  const dataDir = pick('dataDir');
  if (dataDir.value === undefined || dataDir.value.trim() === '') {
    problems.push(`${SETTINGS.dataDir.flag} (or ${SETTINGS.dataDir.env}) is required: the directory that holds this node's data`);
  }

  const security = securitySettings(path, bool, problems);
  const insecure = bool('insecure');
  if (!isLoopback(host) && !insecure) {
    const missing = [
      ...(security.tls === undefined ? ['TLS (--tls-cert, --tls-key, --tls-ca)'] : []),
      ...(security.authFile === undefined && !security.clientCertAuth ? ['client authentication (--auth-file or --client-cert-auth)'] : []),
    ];
    if (missing.length > 0) {
      problems.push(`${SETTINGS.host.flag} ${host} is reachable from the network, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} off: ` +
        `anyone who reaches the port could read and write every address. Turn them on, or say ${SETTINGS.insecure.flag} to run exposed on purpose`);
    }
  }

  const config: Config = {
    host,
    port,
    self,
    peers,
    members: canonicalMembers([self, ...peers]),
    join,
    dataDir: dataDir.value ?? '',
    durability: oneOf('durability', ['full', 'normal'] as const),
    valueBytesMax: int('valueBytesMax', 1, limits.valueBytesMax),
    opDeadlineMs: int('opDeadlineMs', 10, limits.opDeadlineMsMax),
    peerRequestDeadlineMs: int('peerRequestDeadlineMs', 10, 600_000),
    heartbeatIntervalMs: int('heartbeatIntervalMs', 10, 60_000),
    connectionsMax: int('connectionsMax', 8, 1_000_000),
    connectionsPerSourceMax: int('connectionsPerSourceMax', 4, 1_000_000),
    logLevel: oneOf('logLevel', ['debug', 'info', 'warn', 'error'] as const),
    security,
    insecure,
  };
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      hint: 'run `shmem start --help` for every setting',
    });
  }
  return Object.freeze(config);
}
