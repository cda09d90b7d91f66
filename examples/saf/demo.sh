#!/usr/bin/env bash
# make demo-saf: the NCS hot-standby pattern on the SAF API (examples/saf/hotstandby.c), on the
# embedded default:
#   1. A starts active and writes a counter (synchronized to the replicas) five times a second;
#   2. B starts as the standby (same settings: the second member of this node) and follows every
#      value through ncsCkptRegisterCkptArrivalCallback;
#   3. A is killed with SIGKILL;
#   4. B is told to take over (SIGUSR1): saCkptActiveReplicaSet, read the counter, count on.
set -euo pipefail
prog=${1:-build/bin/hotstandby}
data=$(mktemp -d)
export CLCKPT_DATA_DIR=$data CLCKPT_NODE=demo-saf
export CLCKPT_LOG_LEVEL=${CLCKPT_LOG_LEVEL:-error}
export CLCKPT_PORT=${CLCKPT_PORT:-$(( 20000 + RANDOM % 10000 ))}
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
run() {
  local name=$1; shift
  "$prog" "$@" > >(stdbuf -oL sed "s/^/[$name] /" | tee "$data/$name.log") 2>&1 &
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

say "A starts active"
run A active
wait_for A "active: counter" 2
say "B starts as the standby and follows A by arrival callbacks"
run B standby
wait_for B "standby: arrival" 5
last=$(grep -o 'active: counter = [0-9]*' "$data/A.log" | tail -1 | grep -o '[0-9]*$')
say "kill -9 A (last value it acknowledged: $last)"
{ kill -9 "$pid_A" && wait "$pid_A"; } 2>/dev/null || true
say "B takes over (SIGUSR1)"
kill -USR1 "$pid_B"
wait_for B "standby: took over" 1
took=$(grep -o 'took over at counter = [0-9]*' "$data/B.log" | grep -o '[0-9]*$')
wait_for B "active: counter" 3
kill -TERM "$pid_B"
wait "$pid_B" 2>/dev/null || true
if [ "$took" -lt "$last" ]; then
  echo "B took over at $took, below A's last acknowledged value $last" >&2
  exit 1
fi
say "B took over at $took (A's last acknowledged value: $last) and counts on"
