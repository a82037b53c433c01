import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * A closed-loop load generator written for the benchmark: `inFlight` workers, each sending
 * one request at a time over keep-alive connections, spread round-robin over the targets.
 * Records every latency; the same generator drives shmem and etcd. Stops after `seconds`,
 * or once `maxOps` requests were started.
 */
export interface Target {
  readonly host: string;
  readonly port: number;
  /** https with these PEM contents: the CA to verify the server, and a client certificate if it wants one. */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
  /** Extra headers on every request (a bearer token). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
  /** With `classOf`: the sorted latencies of each class of request (the small ones of a mixed cell). */
  readonly byClass?: ReadonlyMap<string, Float64Array>;
}

export async function runLoad(
  targets: readonly Target[],
  inFlight: number,
  seconds: number,
  next: (i: number) => RequestSpec,
  maxOps = Infinity,
  classOf?: (i: number) => string,
): Promise<LoadResult> {
  const tls = targets[0]?.tls;
  const agent = tls === undefined
    ? new Agent({ keepAlive: true, maxSockets: inFlight })
    : new HttpsAgent({ keepAlive: true, maxSockets: inFlight, ca: tls.ca, cert: tls.cert, key: tls.key });
  const latencies: number[] = [];
  const classes = new Map<string, number[]>();
  let errors = 0;
  let counter = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, async (_, w) => {
    for (let k = 0; performance.now() < end && counter < maxOps; k++) {
      const i = counter++;
      const target = targets[(w + k) % targets.length]!;
      const t0 = performance.now();
      const ok = await send(agent, target, next(i));
      if (ok) {
        const ms = performance.now() - t0;
        latencies.push(ms);
        if (classOf) {
          const c = classOf(i);
          const list = classes.get(c) ?? [];
          if (list.length === 0) classes.set(c, list);
          list.push(ms);
        }
      } else errors += 1;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const byClass = classOf ? new Map([...classes].map(([c, l]) => [c, Float64Array.from(l).sort()])) : undefined;
  return { ops: latencies.length, errors, seconds: elapsed, latenciesMs: sorted, ...(byClass ? { byClass } : {}) };
}

function send(agent: Agent | HttpsAgent, target: Target, spec: RequestSpec): Promise<boolean> {
  return new Promise((resolve) => {
    const options = {
      host: target.host, port: target.port, method: spec.method, path: spec.path,
      headers: { ...target.headers, ...(spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(spec.body)) }) },
    };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    };
    // One TLS session per keep-alive connection, as a real client has (the agent holds the CA and client certificate).
    const req = target.tls === undefined
      ? request({ ...options, agent: agent as Agent }, onResponse)
      : httpsRequest({ ...options, agent: agent as HttpsAgent }, onResponse);
    req.on('error', () => resolve(false));
    req.setTimeout(10_000, () => req.destroy());
    req.end(spec.body);
  });
}

/** Percentile (0-100) of sorted latencies. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
