#!/usr/bin/env bash
# make demo: the counter example of the OpenClovis documentation, unchanged, on the embedded default.
# The active process writes its counter once a second and synchronizes; then it reads it back.
set -euo pipefail
counter=${1:-build/bin/ckptTest}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export CLCKPT_DATA_DIR=$data CLCKPT_NODE=demo

echo "== the counter example, active, writing five values"
echo "   (it creates its section with one byte and reads four, so on a fresh checkpoint it starts"
echo "    from 0x00ffffff = 16777215: the original behaves the same)"
"$counter" --active --max-seq 16777220
