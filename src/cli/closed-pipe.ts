/**
 * A reader that stops early (`shmem read 4 | head -c 10`, `shmem --help | head -1`) closes
 * the pipe, and the next write to it fails with EPIPE. Node ignores SIGPIPE, so without this
 * the CLI died with an unhandled 'error' event and a stack trace, or left oclif waiting on a
 * drain that never comes ("unsettled top-level await", exit 13). Instead it stops at once with
 * the status a shell gives a program killed by SIGPIPE (128 + 13): quiet, as `cat` and `seq`
 * are, and still visible to `set -o pipefail`.
 */
export const CLOSED_PIPE_EXIT = 141;

export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(CLOSED_PIPE_EXIT);
      // Any other failure of our own output: one line on the other stream if it still works.
      const other = stream === process.stdout ? process.stderr : process.stdout;
      try {
        other.write(`shmem: cannot write to ${stream === process.stdout ? 'standard output' : 'standard error'}: ${err.message}\n`);
      } catch {
        // nowhere left to say it
      }
      process.exit(1);
    });
  }
}
