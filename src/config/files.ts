import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * Reads a settings file (config, auth file, secret, certificate) of at most `maxBytes`:
 * a regular file, or a ConfigError naming `what`, the path and the problem. Never reads
 * more than `maxBytes` + 1 bytes, so `/dev/zero` or a huge file cannot eat the memory.
 */
export function readSettingsFile(path: string, what: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ConfigError(`${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(`${what} ${path}: not a regular file`);
    if (stat.size > maxBytes) throw new ConfigError(`${what} ${path}: ${stat.size} bytes, the limit is ${maxBytes}`);
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) {
      n = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > maxBytes) throw new ConfigError(`${what} ${path}: larger than the limit of ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

/** Largest config file, auth file or PEM file accepted (1 MiB). */
export const SETTINGS_FILE_BYTES_MAX = 1024 * 1024;
