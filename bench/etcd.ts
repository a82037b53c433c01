import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../test/helpers/cluster.js';
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

/** A 3-member etcd cluster on loopback with data dirs in a temp folder (default fsync, like shmem's default). */
export async function startEtcd(members = 3): Promise<EtcdCluster> {
  const bin = findEtcd();
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  const dir = mkdtempSync(join(tmpdir(), 'shmem-bench-etcd-'));
  const ports = await freePorts(members * 2);
  const names = Array.from({ length: members }, (_, i) => `e${i}`);
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i * 2 + 1]}`).join(',');
  const procs: ChildProcess[] = [];
  const flagsOf = (i: number): string[] => [
    '--name', names[i]!, '--data-dir', join(dir, names[i]!),
    '--listen-client-urls', `http://127.0.0.1:${ports[i * 2]}`, '--advertise-client-urls', `http://127.0.0.1:${ports[i * 2]}`,
    '--listen-peer-urls', `http://127.0.0.1:${ports[i * 2 + 1]}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports[i * 2 + 1]}`,
    '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'shmem-bench', '--log-level', 'error',
  ];
  for (let i = 0; i < members; i++) procs.push(spawn(bin, flagsOf(i), { stdio: 'ignore', env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } }));
  const targets = names.map((_, i) => ({ host: '127.0.0.1', port: ports[i * 2]! }));
  const deadline = Date.now() + 30_000;
  for (const t of targets) {
    for (;;) {
      try {
        const res = await fetch(`http://${t.host}:${t.port}/health`);
        if (res.ok && ((await res.json()) as { health: string }).health === 'true') break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`etcd member on ${t.port} not healthy after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    targets, version,
    flags: 'defaults (fsync on), 3 members on loopback, v3 JSON gateway; reads are linearizable range requests',
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
