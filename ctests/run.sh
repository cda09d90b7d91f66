#!/usr/bin/env bash
# Builds and runs every C test (ctests/test_*.c) against the real library in $BUILD/lib, each in a
# fresh data directory, and prints the total as "N passed, M failed".
# With VALGRIND=1 each test runs under valgrind memcheck (see ctests/valgrind.supp).
# With ASAN=1 the tests and the front library ($BUILD/asan/lib, `make test-asan`) are built with
# AddressSanitizer and UBSan, and any report fails the test (see ctests/lsan.supp).
# TESTS="test_open test_names" runs only those.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-gcc}
out=$BUILD/ctests
libdir=$BUILD/lib
san_flags=()
san_env=()
if [ "${ASAN:-0}" = 1 ]; then
  out=$BUILD/ctests-asan
  libdir=$BUILD/asan/lib
  san_flags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  san_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0
           LSAN_OPTIONS=suppressions=$PWD/ctests/lsan.supp:print_suppressions=0
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
fi
if [ "${VALGRIND:-0}" = 1 ]; then
  out=$BUILD/ctests-valgrind # apart, so that both runs can go at once (make -j)
  command -v valgrind >/dev/null || { echo "valgrind is not installed"; echo "0 passed, 1 failed"; exit 1; }
fi
mkdir -p "$out"
nats_env=()
vg_env=()
if [ "${VALGRIND:-0}" = 1 ]; then
  # Valgrind's virtual CPU says it has RDTSCP (taken from its own model) but cannot run it when the
  # host hides it (an AMD EPYC guest here): the Go runtime's cputicks then dies on SIGILL in every
  # test. Go reads CPU features once, at start, and takes them off through GODEBUG.
  vg_env=(GODEBUG="${GODEBUG:+$GODEBUG,}cpu.rdtscp=off")
  ${GO:-go} build -o "$out/vgcheck" ./ctests/vgcheck || { echo "0 passed, 1 failed"; exit 1; }
  # Under valgrind the library runs only a NATS client: one NATS server, outside valgrind, serves
  # every test (each in a subject space of its own). An embedded server would be far too slow there.
  ${GO:-go} build -o "$out/clckpt" ./cmd/clckpt || { echo "0 passed, 1 failed"; exit 1; }
  nats_dir=$(mktemp -d)
  nats_port=$(( 30000 + RANDOM % 2000 ))
  CLCKPT_DATA_DIR=$nats_dir "$out/clckpt" serve --node ctests --port "$nats_port" --member=false --no-auth >"$nats_dir/out" 2>"$nats_dir/err" &
  nats_pid=$!
  trap 'kill $nats_pid 2>/dev/null; wait $nats_pid 2>/dev/null; rm -rf "$nats_dir"' EXIT
  for _ in $(seq 100); do grep -q ready "$nats_dir/out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$nats_dir/out" || { cat "$nats_dir/err"; echo "0 passed, 1 failed"; exit 1; }
  nats_env=(CLCKPT_NATS_URL="nats://127.0.0.1:$nats_port")
fi
lib=$(cd "$libdir" && pwd)

total_pass=0
total_fail=0
srcs=(ctests/test_*.c)
if [ -n "${TESTS:-}" ]; then
  srcs=()
  for t in $TESTS; do srcs+=("ctests/$t.c"); done
fi
for src in "${srcs[@]}"; do
  name=$(basename "$src" .c)
  bin=$out/$name
  if ! $CC -std=gnu99 -O1 -g -Wall -Werror "${san_flags[@]}" -Iinclude -o "$bin" "$src" -L"$lib" -lclckpt -lSaCkpt -lpthread -Wl,-rpath,"$lib"; then
    echo "$name: does not compile"
    total_fail=$((total_fail + 1))
    continue
  fi
  data=$(mktemp -d)
  runner=()
  if [ "${VALGRIND:-0}" = 1 ]; then
    # The XML report is judged by vgcheck (see ctests/vgcheck); the suppressions only cut the noise.
    runner=(valgrind --quiet --track-origins=yes --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
            --suppressions=ctests/valgrind.supp --xml=yes --xml-file="$out/$name.xml")
  fi
  log=$out/$name.log
  # A port of its own for the embedded NATS server: tests never meet each other's members. Ports
  # here stay below Linux's range for outgoing connections (32768-60999), which any program's may hold.
  port=$(( 20000 + RANDOM % 10000 ))
  env CLCKPT_DATA_DIR="$data" CLCKPT_NODE=ctest CLCKPT_PORT=$port CLCKPT_SUBJECT="t_$name" "${nats_env[@]}" "${san_env[@]}" "${vg_env[@]}" \
    timeout 300 "${runner[@]}" "$bin" >"$log" 2>&1
  status=$?
  rm -rf "$data"
  if [ "${VALGRIND:-0}" = 1 ] && ! "$out/vgcheck" "$out/$name.xml" >>"$log"; then
    status=99
  fi
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  pass=${summary%% passed*}
  fail=${summary#*, }
  fail=${fail%% failed}
  if [ -z "$summary" ]; then
    pass=0
    fail=1
  fi
  if [ "$status" -ne 0 ] && [ "$fail" = 0 ]; then
    fail=1 # crashed, or valgrind found an error
  fi
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  if [ "$fail" != 0 ]; then
    echo "$name: $pass passed, $fail failed (exit $status); output:"
    sed 's/^/    /' "$log"
  else
    echo "$name: $pass passed"
  fi
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
