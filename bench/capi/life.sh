#!/usr/bin/env bash
# Runs build/bin/life_bench (bench/capi/life_bench.c): the C program's write throughput with 8
# threads and 1 thread on the embedded default beside redis-benchmark -c 8 and -c 1 (SET of 256 B, no
# pipelining, a Redis with appendonly yes, appendfsync no and no replica, started here on a free
# port), runs alternating; then clCkptInitialize of the first process of a host (it starts the
# embedded server) and of a second one (it joins it), and clCkptFinalize with 1,000 open checkpoints.
# LIFE_ONLY=1 skips the throughput part.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench/need-redis.sh
bin=${LIFE_BIN:-build/bin/life_bench} # LIFE_BIN: another build's, for an A/B
rounds=${LIFE_ROUNDS:-15}
secs=${TPUT_SECONDS:-2}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{v[NR]=$1} END {i=int(NR/2+0.5); if (i<1) i=1; print v[i]}'; }
p50() { median | awk '{printf "%.2f", $1/1e6}'; } # of nanoseconds, in ms
p99() { sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99+0.5); if (i<1) i=1; printf "%.2f", v[i]/1e6}'; }
to_ns() { awk '/µs$/ {print $1 * 1e3; next} /ms$/ {print $1 * 1e6; next} /s$/ {print $1 * 1e9}'; }
verdict() { awk -v r="$1" -v g="$2" -v op="$3" 'BEGIN {m = (op == ">=") ? (r >= g) : (r <= g); printf "  ratio %.2fx  goal %s %.2fx  %s\n", r, op, g, m ? "met" : "NOT met"}'; }

if [ "${LIFE_ONLY:-0}" != 1 ]; then
echo "== throughput: 256 B clCkptSectionOverwrite, one C program, each thread its own section (WR_ACTIVE_REPLICA, embedded default, no replica), ${secs}s per run"
rport=$(free_port)
mkdir "$tmp/redis"
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync no --dir "$tmp/redis" --logfile "$tmp/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis_rate() { # clients
  redis-benchmark -h 127.0.0.1 -p "$rport" -c "$1" -n $(( secs * 40000 * ($1 > 1 ? 2 : 1) )) -t set -d 256 -P 1 --csv |
    awk -F'"' '$2 == "SET" {print $4}'
}
ours8=() ours1=() r8=() r1=()
for round in 1 2; do
  # ours: one process per round (8 threads then 1 thread), Redis between
  mkdir "$tmp/tput$round"
  CLCKPT_DATA_DIR=$tmp/tput$round CLCKPT_NODE=tput CLCKPT_PORT=$(free_port) $bin tput "$secs" 1 >"$tmp/t.out"
  ours8+=("$(awk '$1 == "threads" && $2 == 8 {print $3}' "$tmp/t.out")")
  ours1+=("$(awk '$1 == "threads" && $2 == 1 {print $3}' "$tmp/t.out")")
  r8+=("$(redis_rate 8)")
  r1+=("$(redis_rate 1)")
done
best() { printf '%s\n' "$@" | sort -g | tail -1; }
b8=$(best "${ours8[@]}"); b1=$(best "${ours1[@]}"); rb8=$(best "${r8[@]}"); rb1=$(best "${r1[@]}")
echo "  ours 8 threads  ops/s ${ours8[*]} (best $b8)"
echo "  ours 1 thread   ops/s ${ours1[*]} (best $b1)"
echo "  redis -c 8      ops/s ${r8[*]} (best $rb8)"
echo "  redis -c 1      ops/s ${r1[*]} (best $rb1)"
echo "ours 8 threads vs redis-benchmark -c 8:"; verdict "$(awk -v a="$b8" -v b="$rb8" 'BEGIN {print a/b}')" 5 ">="
echo "ours 1 thread vs redis-benchmark -c 1: ratio $(awk -v a="$b1" -v b="$rb1" 'BEGIN {printf "%.2fx", a/b}') (no goal)"
echo "ours 8 threads vs ours 1 thread:"; verdict "$(awk -v a="$b8" -v b="$b1" 'BEGIN {print a/b}')" 1.5 ">="
fi

echo
echo "== clCkptInitialize (first process of a host: starts the embedded server; second: joins it), clCkptFinalize with 1,000 open, $rounds rounds"
: >"$tmp/first" ; : >"$tmp/second" ; : >"$tmp/fin" ; : >"$tmp/fin0"
for r in $(seq "$rounds"); do
  d=$tmp/life$r
  mkdir "$d"
  port=$(free_port)
  CLCKPT_LOG_LEVEL=info CLCKPT_DATA_DIR=$d CLCKPT_NODE=life CLCKPT_PORT=$port $bin first "$d/go" >"$d/first.out" 2>"$d/first.err" &
  fp=$!
  for _ in $(seq 3000); do grep -q '^init' "$d/first.out" 2>/dev/null && break; sleep 0.01; done
  CLCKPT_LOG_LEVEL=info CLCKPT_DATA_DIR=$d CLCKPT_NODE=life CLCKPT_PORT=$port $bin second 1000 >"$d/second.out" 2>"$d/second.err"
  CLCKPT_DATA_DIR=$d CLCKPT_NODE=life CLCKPT_PORT=$port $bin second 0 >"$d/empty.out"
  touch "$d/go"
  wait "$fp"
  awk '$1 == "init" {print $2}' "$d/first.out" >>"$tmp/first"
  awk '$1 == "init" {print $2}' "$d/second.out" >>"$tmp/second"
  awk '$1 == "init" {print $4}' "$d/first.out" >>"$tmp/first.faults"
  awk '$1 == "init" {print $4}' "$d/second.out" >>"$tmp/second.faults"
  awk '$1 == "finalize" {print $2}' "$d/second.out" >>"$tmp/fin"
  awk '$1 == "finalize" {print $2}' "$d/empty.out" >>"$tmp/fin0"
  for part in total close_handles step_down deregister shutdown; do # the member's account of its leave
    grep -o "msg=left .*" "$d/second.err" | grep -o " $part=[0-9.]*[µm]*s" | cut -d= -f2 | to_ns >>"$tmp/left.$part" || true
  done
  for p in first second; do # the member's own account of its join (the "joined" log line)
    for part in total store_open replicas_load cluster_join nats_connect directory store_wait lease watch reconcile; do
      grep -o "msg=joined .*" "$d/$p.err" | grep -o " $part=[0-9.]*[µm]*s" | cut -d= -f2 | to_ns >>"$tmp/$p.$part" || true
    done
  done
  rm -rf "$d"
done
for what in first second fin; do
  case $what in
    first) label="clCkptInitialize, first process"; goal=20 ;;
    second) label="clCkptInitialize, second process"; goal=20 ;;
    fin) label="clCkptFinalize, 1,000 open"; goal=10 ;;
  esac
  v=$(p50 <"$tmp/$what")
  printf '%s: p50 %s ms  p99 %s ms  (each: %s)\n' "$label" "$v" "$(p99 <"$tmp/$what")" \
    "$(awk '{printf "%.1f ", $1/1e6}' "$tmp/$what")"
  awk -v v="$v" -v g="$goal" 'BEGIN {printf "  goal p50 <= %d ms  %s\n", g, (v <= g) ? "met" : "NOT met"}'
done
printf 'clCkptFinalize, nothing open: p50 %s ms\n' "$(p50 <"$tmp/fin0")"
printf 'where clCkptFinalize with 1,000 open goes (p50 of the member'"'"'s own timings, its "left" log line, ms): member %s: closing the handles %s, giving up the active roles %s, lease %s, connection and store %s\n' \
  "$(p50 <"$tmp/left.total")" "$(p50 <"$tmp/left.close_handles")" "$(p50 <"$tmp/left.step_down")" "$(p50 <"$tmp/left.deregister")" "$(p50 <"$tmp/left.shutdown")"
for _ in 1 2 3 4 5; do $bin faults; done >"$tmp/faultcost"
anon=$(awk '{print $3}' "$tmp/faultcost" | median); cow=$(awk '{print $5}' "$tmp/faultcost" | median)
printf 'page faults inside clCkptInitialize (p50): first process %s, second %s; one fault costs here %.1f us (fresh anonymous page), %.1f us (copy on write of a private file map; median of 5 x 4,096)\n' \
  "$(median <"$tmp/first.faults")" "$(median <"$tmp/second.faults")" "$(awk -v n="$anon" 'BEGIN {print n/1e3}')" "$(awk -v n="$cow" 'BEGIN {print n/1e3}')"
echo "where clCkptInitialize goes (p50 of the member's own timings, its \"joined\" log line, ms; the store opens while"
echo "the NATS connection and the directory are set up, and the lease waits for both):"
for p in first second; do
  printf '  %-6s process: call %s = member %s + the rest (settings, library); member: store open %s, replicas load %s;' "$p" \
    "$(p50 <"$tmp/$p")" "$(p50 <"$tmp/$p.total")" "$(p50 <"$tmp/$p.store_open")" "$(p50 <"$tmp/$p.replicas_load")"
  printf ' NATS connection%s %s, directory %s, wait for the store %s, lease %s, watch %s, reconcile %s\n' \
    "$([ $p = first ] && echo " (embedded server start)")" "$(p50 <"$tmp/$p.nats_connect")" "$(p50 <"$tmp/$p.directory")" \
    "$(p50 <"$tmp/$p.store_wait")" "$(p50 <"$tmp/$p.lease")" "$(p50 <"$tmp/$p.watch")" "$(p50 <"$tmp/$p.reconcile")"
done
