#!/usr/bin/env bash
# Starts one shmem node (cluster of one) on a free port with a fresh data dir, waits until it
# answers GET /read/1, then stops it. Timed by hyperfine for the README's start-up figure:
#   hyperfine 'scripts/startup-to-first-answer.sh dist/shmem'
set -euo pipefail
bin="${1:-dist/shmem}"
dir="$(mktemp -d)"
port="$(( 20000 + RANDOM % 20000 ))"
"$bin" start --port "$port" --data-dir "$dir" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until curl -sf "http://127.0.0.1:$port/read/1" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "shmem exited before answering" >&2; exit 1; }
  sleep 0.005
done
