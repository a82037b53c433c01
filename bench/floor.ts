/**
 * The physical floor of an operation on this machine, measured in the bench's own run
 * (issue 17): what a request costs that is neither shmem nor etcd. The servers run in a
 * worker thread, so client and server turns do not share one event loop, as between processes.
 *
 * - HTTP keep-alive request/response on loopback (node:http both sides), 1 in flight: the client's round trip;
 * - a TCP line ping-pong on loopback (node:net), 1 in flight: what one peer-stream round trip can cost;
 * - a 4 KiB write with O_DSYNC in the temp folder the data dirs live in: one durable commit.
 *
 * The floor of a write is a client round trip, a query round trip, an update round trip and one
 * fsync; of a read, a client round trip and one peer round trip (the fast path).
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

export interface Floor {
  readonly httpMs: number;
  readonly tcpMs: number;
  readonly fsyncMs: number;
  readonly writeMs: number;
  readonly readMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureFloor(): Promise<Floor> {
  const worker = new Worker(new URL(import.meta.url));
  try {
    const ports = await new Promise<{ http: number; tcp: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const httpMs = await httpRoundTrips(ports.http, 2_000);
    const tcpMs = await tcpRoundTrips(ports.tcp, 5_000);
    const fsyncMs = dsyncWrites(200);
    return { httpMs, tcpMs, fsyncMs, writeMs: httpMs + 2 * tcpMs + fsyncMs, readMs: httpMs + tcpMs };
  } finally {
    await worker.terminate();
  }
}

export function printFloor(f: Floor): void {
  console.log(`floor (this machine, this run, p50): HTTP keep-alive round trip ${f.httpMs.toFixed(3)} ms, TCP line ping-pong ${f.tcpMs.toFixed(3)} ms, ` +
    `4 KiB O_DSYNC write ${f.fsyncMs.toFixed(3)} ms; a write ${f.writeMs.toFixed(3)} ms (client + query + update round trips + one fsync), ` +
    `a read ${f.readMs.toFixed(3)} ms (client + one peer round trip)`);
}

async function httpRoundTrips(port: number, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      times.push(performance.now() - t);
    }
  } finally {
    agent.destroy();
  }
  return median(times.slice(count / 10));
}

async function tcpRoundTrips(port: number, count: number): Promise<number> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write('ping\n');
      });
      times.push(performance.now() - t);
    }
  } finally {
    socket.destroy();
  }
  return median(times.slice(count / 10));
}

function dsyncWrites(count: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'shmem-bench-floor-'));
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    const fd = openSync(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC);
    try {
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        writeSync(fd, block, 0, block.length, (i % 64) * block.length);
        times.push(performance.now() - t);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return median(times.slice(count / 10));
}

/** The worker: an HTTP server answering every request with "ok", and a TCP server answering every line with one. */
async function serve(): Promise<void> {
  const { createServer: httpServer } = await import('node:http');
  const { createServer: tcpServer } = await import('node:net');
  const h = httpServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  const t = tcpServer({ noDelay: true }, (s) => s.on('data', () => s.write('pong\n'))).listen(0, '127.0.0.1');
  await Promise.all([h, t].map((srv) => new Promise((r) => srv.once('listening', r))));
  parentPort!.postMessage({ http: (h.address() as AddressInfo).port, tcp: (t.address() as AddressInfo).port });
}

if (!isMainThread) await serve();
