/**
 * The bench's bulk loader (issue 17, step 5): registers written straight into a stopped
 * node's data dir through SqliteStore, as a commit writes them (change numbers, checksums),
 * in transactions of LOAD_BATCH rows. A million addresses through the API take minutes (one
 * quorum write each); this takes seconds. It is a bench tool, not a product path: a running
 * cluster is loaded through its API or restored from a backup (`shmem restore`).
 */
import { execFileSync } from 'node:child_process';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import type { RegisterItem } from '../src/core/types.js';
import type { Cluster } from '../test/helpers/cluster.js';

/** The writer of the preloaded tags: a node id no real node has (ids are random hex; this one is fixed). */
export const PRELOAD_WRITER = 'b0b0b0b0.1';
const LOAD_BATCH = 20_000;

/** Writes registers from..to-1 (tag (1, PRELOAD_WRITER), `valueBytes` of 'p') into a stopped node's data dir. */
export async function bulkLoad(dataDir: string, from: number, to: number, valueBytes: number): Promise<void> {
  const store = new SqliteStore(dataDir, 'normal');
  try {
    const value = 'p'.repeat(valueBytes);
    for (let first = from; first < to; first += LOAD_BATCH) {
      const items: RegisterItem[] = [];
      for (let addr = first; addr < Math.min(to, first + LOAD_BATCH); addr++) items.push({ addr, tag: { seq: 1, writer: PRELOAD_WRITER }, value });
      await store.putIfNewer(items);
    }
  } finally {
    await store.close();
  }
}

/**
 * Stops every member (SIGTERM), loads addresses 0..count-1 into each data dir alike (as if
 * every write had reached every member), and starts them again; resolves once all are ready.
 * Each member is also given its catch-up position at the head of every other member's change
 * log (the state of members that compared their feeds and found them equal): without it the
 * cells would run beside catch-up walking through count identical tags from each peer.
 */
export async function bulkLoadCluster(cluster: Cluster, count: number, valueBytes: number): Promise<void> {
  for (const n of cluster.nodes) await n.stop('SIGTERM');
  const heads = new Map<number, { log: string; head: number }>();
  for (const n of cluster.nodes) {
    await bulkLoad(n.dataDir, 0, count, valueBytes);
    const store = new SqliteStore(n.dataDir, 'normal');
    heads.set(n.port, store.changeLog());
    await store.close();
  }
  for (const n of cluster.nodes) {
    const store = new SqliteStore(n.dataDir, 'normal');
    try {
      for (const other of cluster.nodes) {
        if (other === n) continue;
        const { log, head } = heads.get(other.port)!;
        await store.putIfNewer([], { peer: `127.0.0.1:${other.port}`, log, position: head });
      }
    } finally {
      await store.close();
    }
  }
  // The loads were not synced (durability normal): flush them now, or the kernel's writeback of
  // the new files runs during the first cells and competes with their fsyncs.
  execFileSync('sync');
  for (const n of cluster.nodes) n.start();
  await cluster.waitReady();
}
