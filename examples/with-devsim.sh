#!/usr/bin/env bash
# examples/with-devsim.sh DEVSIM PROGRAM [ARGS...]: start ccdma-devsim on a
# fresh socket (RAM disk, exits when the client disconnects), run
# PROGRAM ARGS... SOCKET, and stop the device.  PROGRAM's exit status.
set -uo pipefail
devsim=$1
shift
dir=$(mktemp -d)
sock=$dir/blk.sock
"$devsim" --socket "$sock" --size 16m --once --quiet &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
# Wait for the socket, or for the device process to die (no fixed sleep:
# sanitizer builds start slowly).
until [ -S "$sock" ]; do
  kill -0 "$pid" 2>/dev/null || { echo "with-devsim: $devsim exited before listening" >&2; exit 1; }
  sleep 0.05
done
"$@" "$sock"
