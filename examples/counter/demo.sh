#!/usr/bin/env bash
# make demo: the counter example of the OpenClovis documentation, unchanged, in 1+1 redundancy on the
# embedded default (no NATS server to set up: the first process runs one, the survivor takes it over).
#   1. A starts active and writes its counter once a second, synchronizing each value;
#   2. B starts as the standby (same settings: the second member of this node);
#   3. A is killed with SIGKILL (and with it the NATS server it hosted);
#   4. the harness tells B it is active (the CSI-set path: ActiveReplicaSet, then read the counter);
#   5. B goes on counting from where A stopped.
set -euo pipefail
counter=${1:-build/bin/ckptTest}
data=$(mktemp -d)
export CLCKPT_DATA_DIR=$data CLCKPT_NODE=demo
# Only errors from the library; CLCKPT_LOG_LEVEL=info shows the members at work.
export CLCKPT_LOG_LEVEL=${CLCKPT_LOG_LEVEL:-error}
# A port of its own for the embedded NATS server, so that the demo never meets another one; below
# Linux's range of ports for outgoing connections (32768-60999), which any program's may hold.
export CLCKPT_PORT=${CLCKPT_PORT:-$(( 20000 + RANDOM % 10000 ))}
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
# run NAME ARGS...: start the counter with its output prefixed by NAME, also kept in $data/NAME.log.
run() {
  local name=$1; shift
  "$counter" "$@" > >(stdbuf -oL sed "s/^/[$name] /" | tee "$data/$name.log") 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}
wait_for() { # wait_for NAME PATTERN COUNT
  for _ in $(seq 300); do
    [ "$(grep -c -- "$2" "$data/$1.log" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' from $1" >&2
  exit 1
}

say "A starts active: it writes its counter once a second, and synchronizes it"
echo "   (the example creates its section with one byte and reads four, so a fresh checkpoint"
echo "    starts at 0x00ffffff = 16777215: the original behaves the same)"
run A --active
wait_for A "CkptWrite" 2

say "B starts as the standby, with the same settings: the second member of this node"
run B --standby
wait_for B "harness: standby" 1
wait_for A "CkptWrite" 5

last=$(grep -o 'CkptWrite: seq = [0-9]*' "$data/A.log" | tail -1 | grep -o '[0-9]*$')
say "kill -9 A (last value it wrote: $last); the NATS server it hosted dies with it"
{ kill -9 "$pid_A" && wait "$pid_A"; } 2>/dev/null || true

sleep 1
say "B becomes active (SIGUSR1: the CSI-set path of the example)"
kill -USR1 "$pid_B"
wait_for B "CheckpointRead" 2
wait_for B "CkptWrite" 3

say "B stops"
kill -TERM "$pid_B"
wait "$pid_B" 2>/dev/null || true
took=$(grep -o 'CheckpointRead: seq = [0-9]*' "$data/B.log" | tail -1 | grep -o '[0-9]*$')
say "B took over at $took after A's last write $last: the counter was not lost"
[ "$took" -ge $((last - 1)) ]
