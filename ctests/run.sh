#!/usr/bin/env bash
# Builds and runs every C test (ctests/test_*.c) against the real library in $BUILD/lib, each in a
# fresh data directory, and prints the total as "N passed, M failed".
# With VALGRIND=1 each test runs under valgrind memcheck (see ctests/valgrind.supp).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-gcc}
out=$BUILD/ctests
if [ "${VALGRIND:-0}" = 1 ]; then
  out=$BUILD/ctests-valgrind # apart, so that both runs can go at once (make -j)
  command -v valgrind >/dev/null || { echo "valgrind is not installed"; echo "0 passed, 1 failed"; exit 1; }
fi
mkdir -p "$out"
lib=$(cd "$BUILD/lib" && pwd)

total_pass=0
total_fail=0
for src in ctests/test_*.c; do
  name=$(basename "$src" .c)
  bin=$out/$name
  if ! $CC -std=gnu99 -O1 -g -Wall -Werror -Iinclude -o "$bin" "$src" -L"$lib" -lclckpt -lpthread -Wl,-rpath,"$lib"; then
    echo "$name: does not compile"
    total_fail=$((total_fail + 1))
    continue
  fi
  data=$(mktemp -d)
  runner=()
  if [ "${VALGRIND:-0}" = 1 ]; then
    runner=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
            --suppressions=ctests/valgrind.supp)
  fi
  log=$out/$name.log
  CLCKPT_DATA_DIR=$data CLCKPT_NODE=ctest timeout 300 "${runner[@]}" "$bin" >"$log" 2>&1
  status=$?
  rm -rf "$data"
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
