import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readSettingsFile, SETTINGS_FILE_BYTES_MAX } from '../config/files.js';
import { ConfigError } from '../errors.js';
import { ROLES, type Role } from './roles.js';

/**
 * Bearer tokens for clients. A token is `shm.<id>.<secret>`: the id (8 hex digits) finds
 * its line in the auth file without trying every hash, the secret (32 random bytes,
 * base64url) is what proves it. The auth file keeps only an scrypt hash of the secret:
 *
 *   # id       role   hash                                       name
 *   3f9a0c12   write  scrypt$16384$8$1$<salt base64>$<hash base64>  ci-writer
 *
 * Lines starting with # and blank lines are ignored. `shmem token create` prints both.
 */
export interface TokenEntry {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  readonly hash: ScryptHash;
}

interface ScryptHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const TOKEN_PATTERN = /^shm\.([0-9a-f]{8})\.([A-Za-z0-9_-]{43})$/;
const ID_PATTERN = /^[0-9a-f]{8}$/;
const NAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
/** scrypt cost: 16 MiB and ~50 ms per check on the 2-core machine; verified tokens are cached. */
const SCRYPT = { N: 16384, r: 8, p: 1, keyBytes: 32, saltBytes: 16 } as const;
/** Most verified tokens kept in memory (their SHA-256, never the token). */
const VERIFIED_CACHE_MAX = 10_000;

/** A new token with its auth-file line. */
export async function createToken(role: Role, name: string): Promise<{ token: string; line: string; entry: TokenEntry }> {
  if (!NAME_PATTERN.test(name)) throw new ConfigError(`token name "${name}" must be 1-64 characters of letters, digits and . _ @ -`);
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = await scryptKey(secret, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  const hash: ScryptHash = { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt, key };
  const entry: TokenEntry = { id, role, name, hash };
  return { token: `shm.${id}.${secret}`, line: formatEntry(entry), entry };
}

export function formatEntry(e: TokenEntry): string {
  return `${e.id} ${e.role} scrypt$${e.hash.N}$${e.hash.r}$${e.hash.p}$${e.hash.salt.toString('base64')}$${e.hash.key.toString('base64')} ${e.name}`;
}

/** Reads an auth file; throws ConfigError naming the file and the line of the first problems. */
export function readAuthFile(path: string): TokenEntry[] {
  const text = readSettingsFile(path, 'auth file', SETTINGS_FILE_BYTES_MAX).toString('utf8');
  const entries: TokenEntry[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parsed = parseEntry(line);
    if (typeof parsed === 'string') problems.push(`line ${i + 1}: ${parsed}`);
    else if (entries.some((e) => e.id === parsed.id)) problems.push(`line ${i + 1}: token id ${parsed.id} appears twice`);
    else entries.push(parsed);
  });
  if (problems.length > 0) {
    throw new ConfigError(`auth file ${path}:\n  - ${problems.slice(0, 10).join('\n  - ')}`, {
      hint: 'each line is "<id> <role> <hash> <name>" as printed by `shmem token create`',
    });
  }
  return entries;
}

function parseEntry(line: string): TokenEntry | string {
  const fields = line.split(/\s+/);
  if (fields.length !== 4) return `expected 4 fields "<id> <role> <hash> <name>", found ${fields.length}`;
  const [id, role, hashText, name] = fields as [string, string, string, string];
  if (!ID_PATTERN.test(id)) return `token id "${id.slice(0, 20)}" is not 8 hex digits`;
  if (!ROLES.includes(role as Role)) return `role "${role.slice(0, 20)}" is not one of ${ROLES.join(', ')}`;
  if (!NAME_PATTERN.test(name)) return `name "${name.slice(0, 20)}" must be 1-64 characters of letters, digits and . _ @ -`;
  const h = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hashText);
  if (!h) return 'hash is not scrypt$N$r$p$salt$key';
  const [N, r, p] = [Number(h[1]), Number(h[2]), Number(h[3])];
  // Bounded so that a hostile file cannot make one check take minutes or gigabytes.
  if (N < 1024 || N > 1048576 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16 || 128 * N * r > 256 * 1024 * 1024) {
    return `scrypt parameters N=${N} r=${r} p=${p} are outside the accepted range`;
  }
  const salt = Buffer.from(h[4]!, 'base64');
  const key = Buffer.from(h[5]!, 'base64');
  if (salt.length < 8 || key.length < 16) return 'salt or hash is too short';
  return { id, role: role as Role, name, hash: { N, r, p, salt, key } };
}

/**
 * The tokens a node accepts. Checking a token costs one scrypt (on libuv's thread pool, not
 * the event loop) the first time; after that its SHA-256 is remembered until the file is
 * reloaded, so the hot path pays one hash and a map look-up.
 */
export class TokenStore {
  private readonly byId: Map<string, TokenEntry>;
  private readonly verified = new Map<string, TokenEntry>();

  constructor(entries: readonly TokenEntry[]) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * The entry `token` proves, or a reason why it proves none. Synchronous for a token seen
   * before (the hot path), a promise only when scrypt has to run.
   */
  verify(token: string): TokenEntry | string | Promise<TokenEntry | string> {
    const digest = createHash('sha256').update(token).digest('hex');
    const cached = this.verified.get(digest);
    if (cached) return cached;
    return this.verifySlow(token, digest);
  }

  private async verifySlow(token: string, digest: string): Promise<TokenEntry | string> {
    const m = TOKEN_PATTERN.exec(token);
    if (!m) return 'the token is not of the form shm.<id>.<secret>';
    const entry = this.byId.get(m[1]!);
    if (!entry) return `token ${m[1]} is not in the auth file (unknown or revoked)`;
    const key = await scryptKey(m[2]!, entry.hash.salt, entry.hash.N, entry.hash.r, entry.hash.p, entry.hash.key.length);
    if (!timingSafeEqual(key, entry.hash.key)) return `token ${m[1]}: the secret does not match`;
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    this.verified.set(digest, entry);
    return entry;
  }
}

function scryptKey(secret: string, salt: Buffer, N: number, r: number, p: number, keyBytes: number = SCRYPT.keyBytes): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyBytes, { N, r, p, maxmem: 256 * 1024 * 1024 + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
