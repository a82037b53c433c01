import { createHmac, timingSafeEqual } from 'node:crypto';
import { readSettingsFile } from '../config/files.js';
import { ConfigError } from '../errors.js';

/** Header carrying a peer's proof of the cluster secret. */
export const HEADER_PEER_PROOF = 'x-shmem-peer-proof';

/** Shortest secret accepted, in bytes (after trimming a trailing newline). */
export const CLUSTER_SECRET_BYTES_MIN = 16;
const CLUSTER_SECRET_BYTES_MAX = 4096;

/**
 * The cluster secret, read from a file (never from the command line, where `ps` shows it).
 * Peers prove it with HMAC-SHA256(secret, "shmem-peer-v1 " + cluster id) rather than the
 * secret itself, so the secret never travels; without TLS, someone who can read the traffic
 * can still replay the proof (turn TLS on for that threat, see the README's Security section).
 */
export class ClusterSecret {
  private constructor(private readonly secret: Buffer, readonly path: string) {}

  static read(path: string): ClusterSecret {
    const bytes = readSettingsFile(path, 'cluster secret file', CLUSTER_SECRET_BYTES_MAX + 2);
    const secret = Buffer.from(bytes.toString('utf8').replace(/\r?\n$/, ''), 'utf8');
    if (secret.length < CLUSTER_SECRET_BYTES_MIN || secret.length > CLUSTER_SECRET_BYTES_MAX) {
      throw new ConfigError(`cluster secret file ${path}: the secret is ${secret.length} bytes, it must be ${CLUSTER_SECRET_BYTES_MIN} to ${CLUSTER_SECRET_BYTES_MAX}`, {
        hint: 'make one with: openssl rand -base64 32 > cluster.secret',
      });
    }
    return new ClusterSecret(secret, path);
  }

  /** The proof this node sends to members of cluster `clusterId`. */
  proof(clusterId: string): string {
    return createHmac('sha256', this.secret).update(`shmem-peer-v1 ${clusterId}`).digest('hex');
  }

  /** Constant-time check of a proof received from a peer. */
  verify(clusterId: string, received: string): boolean {
    const expected = Buffer.from(this.proof(clusterId), 'utf8');
    const got = Buffer.from(received, 'utf8');
    return got.length === expected.length && timingSafeEqual(got, expected);
  }
}
