import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is compiled to build/test/helpers/). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

/** The executable under test: SHMEM_BIN (for example dist/shmem) or the checkout's launcher. */
export const SHMEM_BIN = resolve(ROOT, process.env['SHMEM_BIN'] ?? 'bin/shmem');

/**
 * Environment for the processes under test. A packaged executable runs with a PATH that has
 * no Node.js on it, as on a server that only has the one file (SHMEM_KEEP_PATH=1 keeps the
 * PATH, to run the suites against another checkout's launcher, e.g. an older build).
 */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (process.env['SHMEM_BIN'] !== undefined && process.env['SHMEM_KEEP_PATH'] !== '1') env['PATH'] = '/nonexistent-no-node-here';
  return env;
}

/** Every process any test started, killed on exit even when a test throws. */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** `n` distinct free loopback ports, held open together so none is handed out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => ok(s));
  })));
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

/** Every temporary folder any test made, removed on exit even when a test throws or forgets. */
const temporary = new Set<string>();
process.on('exit', () => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});
// A test run stopped from outside (Ctrl-C, a CI timeout's SIGTERM) skips 'exit' handlers unless
// the signal is handled: exit through them, so processes and folders still go.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/** A new temporary folder, removed when the test process exits (tests may remove it sooner). */
export function tempDir(prefix = 'shmem-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.add(dir);
  return dir;
}

/** Runs the CLI to completion; with `closedStdout`, its standard output is a pipe whose reader is already gone. */
function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, closedStdout: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(SHMEM_BIN, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child);
    if (closedStdout) child.stdout.destroy();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => {
      started.delete(child);
      ok({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return spawnCli(args, env, false);
}

/** Runs the CLI with its standard output a pipe whose reader is gone before it writes (`| head` that has stopped). */
export async function runCliIntoClosedPipe(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await spawnCli(args, {}, true);
  return { code, stderr };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the CLI with `chunks` written to its standard input, `gapMs` apart, then closed. */
export function runCliWithInput(args: readonly string[], chunks: readonly (string | Buffer)[], gapMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(SHMEM_BIN, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    started.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => {
      started.delete(child);
      ok({ code: code ?? -1, stdout, stderr });
    });
    void (async () => {
      for (const c of chunks) {
        child.stdin.write(c);
        await sleep(gapMs);
      }
      child.stdin.end();
    })();
  });
}

/** One `shmem start` process of a test cluster. */
export class NodeProcess {
  child: ChildProcess | undefined;
  log = '';
  /** What the test's own requests present to this node (CA, client certificate, token). */
  clientTls: ClientTls | undefined;
  /** A command the node runs under, e.g. ['prlimit', '--nofile=256', '--']. */
  prefix: readonly string[] = [];
  private exited: Promise<number | null> | undefined;

  constructor(readonly port: number, public peers: readonly number[], readonly dataDir: string, public extraArgs: readonly string[] = []) {}

  /** https once the node is started with TLS. */
  get url(): string {
    return `${this.extraArgs.includes('--tls-cert') ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const args = ['start', '--port', String(this.port), '--data-dir', this.dataDir,
      ...(this.peers.length > 0 ? ['--peers', this.peers.map((p) => `127.0.0.1:${p}`).join(',')] : []), ...(this.extraArgs.includes('--heartbeat-ms') ? [] : ['--heartbeat-ms', '100']), ...this.extraArgs];
    const [command, ...commandArgs] = [...this.prefix, SHMEM_BIN, ...args];
    const child = spawn(this.prefix.length > 0 ? `/usr/bin/${command}` : command!, [...commandArgs], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child);
    this.log += `--- start ${args.join(' ')}\n`;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    this.exited = new Promise((ok) => child.on('exit', (code) => {
      started.delete(child);
      ok(code);
    }));
    this.child = child;
  }

  /** Sends `signal` and waits for the process to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill(signal);
    return this.exited!;
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async waitExit(): Promise<number | null> {
    return this.exited ?? null;
  }

  /** Waits until GET path answers `status` (default: /readyz 200). */
  async waitFor(path = '/readyz', timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`node ${this.port} exited while waiting for ${path}:\n${this.log}`);
      try {
        const res = await http(`${this.url}${path}`, undefined, this.clientTls);
        last = `${res.status} ${res.text}`;
        if (res.status === 200) return;
      } catch (err) {
        last = String(err);
      }
      await sleep(50);
    }
    throw new Error(`node ${this.port}: ${path} not ready after ${timeoutMs} ms (last: ${last})\n${this.log}`);
  }
}

/** A real cluster of `shmem start` processes on loopback, each with its own temp data dir. */
/** Runs `body` on a fresh 3-node cluster and always kills it; the logs are attached to failures. */
export async function withCluster(body: (c: Cluster) => Promise<void>, extraArgs: readonly string[] = []): Promise<void> {
  const cluster = await Cluster.start(3, extraArgs);
  try {
    await body(cluster);
  } catch (err) {
    (err as Error).message += `\n${cluster.logs().slice(-6000)}`;
    throw err;
  } finally {
    await cluster.destroy();
  }
}

export class Cluster {
  private constructor(readonly nodes: NodeProcess[], readonly dir: string) {}

  static async start(size = 3, extraArgs: readonly string[] = [], clientTls?: ClientTls): Promise<Cluster> {
    const ports = await freePorts(size);
    const dir = tempDir();
    const nodes = ports.map((port, i) => new NodeProcess(port, ports.filter((p) => p !== port), join(dir, `node${i}`), extraArgs));
    for (const n of nodes) n.clientTls = clientTls;
    const cluster = new Cluster(nodes, dir);
    for (const n of nodes) n.start();
    try {
      await cluster.waitReady();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  node(i: number): NodeProcess {
    return this.nodes[i]!;
  }

  endpoints(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  async waitReady(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.running).map((n) => n.waitFor()));
  }

  /** Every node's log, for failure messages. */
  logs(): string {
    return this.nodes.map((n) => `=== node ${n.port}\n${n.log}`).join('\n');
  }

  /** Kills every node and removes the data dirs. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Paths of what a test client presents over TLS, and its token. */
export interface ClientTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
}

/** HTTP JSON helper against a node; https URLs go through node:https with `tls`. */
export async function http(url: string, init?: RequestInit, tls?: ClientTls): Promise<{ status: number; body: any; text: string }> {
  let status: number;
  let text: string;
  const headers = { ...(init?.headers as Record<string, string> | undefined), ...(tls?.token ? { authorization: `Bearer ${tls.token}` } : {}) };
  if (url.startsWith('https:')) {
    ({ status, text } = await new Promise<{ status: number; text: string }>((ok, fail) => {
      const req = httpsRequest(url, {
        method: init?.method ?? 'GET', headers, signal: init?.signal ?? undefined,
        ca: tls?.ca ? readFileSync(tls.ca) : undefined,
        cert: tls?.cert ? readFileSync(tls.cert) : undefined,
        key: tls?.key ? readFileSync(tls.key) : undefined,
      }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (t += d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: t }));
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end(init?.body as string | undefined);
    }));
  } else {
    const res = await fetch(url, { ...init, headers });
    status = res.status;
    text = await res.text();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, body, text };
}

export async function writeVia(node: NodeProcess, addr: number, value: string): Promise<{ status: number; body: any; text: string }> {
  return http(`${node.url}/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr, value }) }, node.clientTls);
}

export async function readVia(node: NodeProcess, addr: number): Promise<{ status: number; body: any; text: string }> {
  return http(`${node.url}/read/${addr}`, undefined, node.clientTls);
}
