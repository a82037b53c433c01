import { connect, type Socket } from 'node:net';
import { http, type NodeProcess } from './cluster.js';

/**
 * Tools of the hostile suites (test/hostile): probes that measure whether a node stays
 * responsive while it is attacked, and raw sockets for what fetch cannot send. Every attack
 * targets loopback and is bounded in bytes and seconds by its test.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a liveness probe saw: the slowest answer, how many it sent, how many failed. */
export interface ProbeResult {
  readonly maxMs: number;
  readonly count: number;
  readonly failures: number;
}

/**
 * Polls `url` (default GET /livez) every `everyMs` until `stop` is called, one request at a time
 * with a 10 s timeout; a request that fails counts as a failure and as 10 s.
 */
export function probe(url: string, everyMs = 50): { stop: () => Promise<ProbeResult> } {
  let running = true;
  let maxMs = 0;
  let count = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await res.text();
        if (res.status !== 200) failures += 1;
      } catch {
        failures += 1;
      }
      count += 1;
      maxMs = Math.max(maxMs, performance.now() - started);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { maxMs: Math.round(maxMs), count, failures };
    },
  };
}

/** The node's resident memory in MiB, from its /metrics. */
export async function rssMiB(node: NodeProcess): Promise<number> {
  const text = (await http(`${node.url}/metrics`, undefined, node.clientTls)).text;
  const bytes = Number(/^shmem_process_resident_memory_bytes (\d+)/m.exec(text)?.[1]);
  if (!Number.isFinite(bytes)) throw new Error(`no resident memory in /metrics of ${node.port}`);
  return Math.round(bytes / 2 ** 20);
}

/** A counter's value from the node's /metrics (0 when absent). */
export async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = (await http(`${node.url}/metrics`, undefined, node.clientTls)).text;
  const escaped = name.replace(/[{}"=,]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The HTTP header lines a member sends on its peer streams to `node` (its cluster identity). */
export async function peerHeaderLines(node: NodeProcess): Promise<string> {
  const st = (await http(`${node.url}/status`)).body;
  const from = st.cluster.members.find((m: string) => m !== st.node.member);
  return `x-shmem-protocol: 2\r\nx-shmem-cluster: ${st.cluster.id}\r\nx-shmem-members: ${st.cluster.members.join(',')}\r\nx-shmem-from: ${from}\r\n`;
}

/** A TCP connection to a node's port (from `localAddress` when given: 127.0.0.2 is another source). */
export function rawSocket(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => ok(s));
    s.once('error', fail);
  });
}

/**
 * Opens a peer stream to `node` on a raw socket with chunked encoding and the cluster's
 * identity, so a test can write whatever bytes it likes into the body.
 */
export async function rawPeerStream(node: NodeProcess): Promise<{ socket: Socket; send: (bytes: Buffer | string) => Promise<void> }> {
  const headers = await peerHeaderLines(node);
  const socket = await rawSocket(node.port);
  socket.on('error', () => {});
  socket.write(`POST /peer/stream HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-shmem-frames\r\ntransfer-encoding: chunked\r\n${headers}\r\n`);
  const send = async (bytes: Buffer | string): Promise<void> => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (b.length === 0 || socket.destroyed) return;
    const ok = socket.write(`${b.length.toString(16)}\r\n`) && socket.write(b) && socket.write('\r\n');
    if (!ok && !socket.destroyed) {
      await new Promise<void>((r) => {
        const done = (): void => {
          socket.off('drain', done).off('close', done);
          r();
        };
        socket.on('drain', done).on('close', done);
      });
    }
  };
  return { socket, send };
}

/** Writes `value` to `addr` through `node`; the status and the time it took. */
export async function timedWrite(node: NodeProcess, addr: number, value: string): Promise<{ status: number; ms: number; code?: string }> {
  const started = performance.now();
  const r = await http(`${node.url}/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addr, value }) }, node.clientTls);
  return { status: r.status, ms: performance.now() - started, code: r.body?.error?.code };
}
