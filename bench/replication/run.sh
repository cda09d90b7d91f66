#!/usr/bin/env bash
# Runs bench/replication beside a Redis master and one replica (Debian's redis-server and
# redis-benchmark, installed if missing) on loopback ports of their own, both with appendonly yes and
# appendfsync no (the program switches them to appendfsync always for its fsync part).
set -euo pipefail
cd "$(dirname "$0")/../.."
bench/need-redis.sh
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
master=$(free_port)
replica=$(free_port)
pids=()
mkdir -p "$dir/m" "$dir/r"
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
redis-server --port "$master" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync no --dir "$dir/m" --logfile "$dir/master.log" &
pids+=($!)
redis-server --port "$replica" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync no --dir "$dir/r" --logfile "$dir/replica.log" \
  --replicaof 127.0.0.1 "$master" &
pids+=($!)
for _ in $(seq 100); do
  redis-cli -p "$master" info replication 2>/dev/null | grep -q "connected_slaves:1" && break
  sleep 0.1
done
echo "Redis $(redis-server --version | grep -o 'v=[0-9.]*'): master :$master, replica :$replica"
make --no-print-directory build/bin/clckpt >/dev/null
go build -o build/bin/bench-replication ./bench/replication
build/bin/bench-replication -redis "127.0.0.1:$master" -redis-replica "127.0.0.1:$replica" \
  -redis-benchmark "$(command -v redis-benchmark)" -clckpt build/bin/clckpt "$@"
