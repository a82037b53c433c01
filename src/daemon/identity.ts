import { randomBytes } from 'node:crypto';
import type { WriterId } from '../core/types.js';
import { readIncarnation, writeIncarnation } from '../storage/data-dir.js';
import type { RegisterStore } from '../storage/register-store.js';

/** Who this node is, as persisted in its data dir. */
export interface Identity {
  /** Stable id, generated on first start. */
  readonly nodeId: string;
  /** Start count; bumped durably on every start before any write is coordinated. */
  readonly incarnation: number;
  /** Writer id for tags: `<nodeId>.<incarnation>`, unique across restarts. */
  readonly writer: WriterId;
  /**
   * False for a data dir that never finished initialising (new, or wiped): the node must
   * recover from other members before it answers as a replica (core/recovery.ts).
   */
  readonly initialized: boolean;
}

/** What the start found about the data dir (storage/data-dir.ts previousRun). */
export interface DataDirState {
  /** The node was killed and the database's write-ahead log is gone: acknowledged commits may be lost. */
  readonly walLost: boolean;
}

/** Marks the data dir initialised: from now on its replica answers count. */
export function markInitialized(store: RegisterStore): void {
  store.setMeta('initialized', '1');
}

/**
 * Loads (or creates) the node's identity. The member set is not part of it: it lives in the
 * data dir as a configuration with epochs (membership-boot.ts, docs/membership.md).
 */
export function loadIdentity(store: RegisterStore, dataDir: string, state: DataDirState = { walLost: false }): Identity {
  // A lost write-ahead log may have taken acknowledged commits with it: recover like a wiped
  // data dir (docs/storage-integrity.md), and say so durably in case this start is cut short.
  // Its change numbers may be handed out again too, so the change sequence gets a new id
  // first (docs/catch-up.md): the other members' positions on the old one compare everything.
  if (state.walLost) {
    store.renewChangeLog();
    store.setMeta('initialized', '0');
  }
  const initialized = store.getMeta('initialized') === '1';
  // The node id and incarnation are kept twice, in the database and in a file beside it, and a
  // start takes the larger incarnation: losing either (a deleted -wal takes the database's last
  // bump, or even the id, with it) can never make a writer id repeat, which would issue one tag
  // for two values. The file is written first.
  const outside = readIncarnation(dataDir);
  let nodeId = store.getMeta('node_id');
  if (nodeId === undefined) {
    nodeId = outside?.nodeId ?? randomBytes(4).toString('hex');
    store.setMeta('node_id', nodeId);
  }
  const incarnation = Math.max(Number(store.getMeta('incarnation') ?? '0'), outside?.nodeId === nodeId ? outside.incarnation : 0) + 1;
  writeIncarnation(dataDir, nodeId, incarnation);
  store.setMeta('incarnation', String(incarnation));
  return { nodeId, incarnation, writer: `${nodeId}.${incarnation}`, initialized };
}
