#!/usr/bin/env bash
# examples/with-devsim.sh [--net] DEVSIM PROGRAM [ARGS...]: start ccdma-devsim
# on a fresh socket (RAM disk, exits when the client disconnects), run
# PROGRAM ARGS... SOCKET, and stop the device.  With --net, also start
# DEVSIM --net (the echo network device) on a second socket and run
# PROGRAM ARGS... BLK_SOCKET NET_SOCKET.  PROGRAM's exit status.
set -uo pipefail
net=0
if [ "${1:-}" = --net ]; then net=1; shift; fi
devsim=$1
shift
dir=$(mktemp -d)
pids=()
stop() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap stop EXIT
# Start one device on socket $1 with options $2...; wait for the socket, or
# for the device process to die (no fixed sleep: sanitizer builds start
# slowly).
start() {
  local sock=$1 pid
  shift
  "$devsim" --socket "$sock" --once --quiet "$@" &
  pid=$!
  pids+=("$pid")
  until [ -S "$sock" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "with-devsim: $devsim exited before listening" >&2; exit 1; }
    sleep 0.05
  done
}
socks=("$dir/blk.sock")
start "$dir/blk.sock" --size 16m
if [ $net = 1 ]; then
  socks+=("$dir/net.sock")
  start "$dir/net.sock" --net
fi
"$@" "${socks[@]}"
