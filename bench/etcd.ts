import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { freePorts, http } from '../test/helpers/cluster.js';
import type { TestPki } from '../test/helpers/certs.js';
import type { Target } from './load.js';

/** Finds etcd, installing Debian's etcd-server package when it is missing and we are root. */
export function findEtcd(): string {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  if (process.getuid?.() === 0) {
    console.log('installing etcd-server (Debian) ...');
    execFileSync('apt-get', ['install', '-y', '-qq', 'etcd-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (existsSync('/usr/bin/etcd')) return '/usr/bin/etcd';
  }
  throw new Error('etcd not found: install Debian\'s etcd-server package (apt-get install etcd-server)');
}

export interface EtcdCluster {
  readonly targets: Target[];
  readonly version: string;
  readonly flags: string;
  stop(): Promise<void>;
}

/**
 * A 3-member etcd cluster on loopback with data dirs in a temp folder (default fsync, like
 * shmem's default). With `pki`: TLS for clients and peers, peers verified both ways
 * (--peer-client-cert-auth), and clients authenticated by certificate (--client-cert-auth).
 */
export async function startEtcd(members = 3, pki?: TestPki): Promise<EtcdCluster> {
  const bin = findEtcd();
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  const dir = mkdtempSync(join(tmpdir(), 'shmem-bench-etcd-'));
  const ports = await freePorts(members * 2);
  const names = Array.from({ length: members }, (_, i) => `e${i}`);
  const scheme = pki ? 'https' : 'http';
  const cluster = names.map((n, i) => `${n}=${scheme}://127.0.0.1:${ports[i * 2 + 1]}`).join(',');
  const procs: ChildProcess[] = [];
  const tlsFlags = pki ? [
    '--cert-file', pki.member.cert, '--key-file', pki.member.key, '--trusted-ca-file', pki.ca, '--client-cert-auth',
    '--peer-cert-file', pki.member.cert, '--peer-key-file', pki.member.key, '--peer-trusted-ca-file', pki.ca, '--peer-client-cert-auth',
  ] : [];
  const flagsOf = (i: number): string[] => [
    '--name', names[i]!, '--data-dir', join(dir, names[i]!),
    '--listen-client-urls', `${scheme}://127.0.0.1:${ports[i * 2]}`, '--advertise-client-urls', `${scheme}://127.0.0.1:${ports[i * 2]}`,
    '--listen-peer-urls', `${scheme}://127.0.0.1:${ports[i * 2 + 1]}`, '--initial-advertise-peer-urls', `${scheme}://127.0.0.1:${ports[i * 2 + 1]}`,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'shmem-bench', '--log-level', 'error',
    ...tlsFlags,
  ];
  for (let i = 0; i < members; i++) procs.push(spawn(bin, flagsOf(i), { stdio: 'ignore', env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } }));
  const tls = pki ? { ca: readFileSync(pki.ca, 'utf8'), cert: readFileSync(pki.client.cert, 'utf8'), key: readFileSync(pki.client.key, 'utf8') } : undefined;
  const targets = names.map((_, i) => ({ host: '127.0.0.1', port: ports[i * 2]!, ...(tls ? { tls } : {}) }));
  const clientTls = pki ? { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } : undefined;
  const deadline = Date.now() + 30_000;
  for (const t of targets) {
    for (;;) {
      try {
        const res = await http(`${scheme}://${t.host}:${t.port}/health`, undefined, clientTls);
        if (res.status === 200 && (res.body as { health: string }).health === 'true') break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`etcd member on ${t.port} not healthy after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    targets, version,
    flags: `defaults (fsync on), 3 members on loopback, v3 JSON gateway; reads are linearizable range requests${pki
      ? '; TLS for clients and peers, --client-cert-auth and --peer-client-cert-auth (clients and peers present certificates)' : ''}`,
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
