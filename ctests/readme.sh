#!/usr/bin/env bash
# The C program of README.md compiles with -Wall -Werror against include/ and runs, twice (the second
# run finds the checkpoint the first one kept).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-gcc}
lib=$(cd "$BUILD/lib" && pwd)
src=$BUILD/ctests/readme.c
mkdir -p "$BUILD/ctests"
awk '/^```c$/{f=1;next}/^```$/{f=0}f' README.md > "$src"
$CC -std=gnu99 -Wall -Werror -Iinclude -o "$BUILD/ctests/readme" "$src" -L"$lib" -lclckpt -Wl,-rpath,"$lib"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
for run in 1 2; do
  out=$(CLCKPT_DATA_DIR=$data CLCKPT_NODE=readme "$BUILD/ctests/readme")
  if [ "$out" != "seq = 42" ]; then
    echo "README program, run $run: printed '$out'"
    echo "0 passed, 1 failed"
    exit 1
  fi
done
echo "readme: 2 passed, 0 failed"
