#!/usr/bin/env bash
# Checks what each library exports (nm -D --defined-only): libclckpt.so only its API (clCkpt*, the
# clHeap/clOsal/clName helpers, clStrdup), libSaCkpt.so only saCkpt*, saAis* and ncsCkpt*, the core
# only its two tables. Programs define globals of their own, which an exported name could capture.
set -euo pipefail
lib=${1:-build/lib}
fail=0
check() { # library, extended regexp of the allowed names, names that must be there
  local so=$1 allowed=$2
  shift 2
  local names
  names=$(nm -D --defined-only "$lib/$so" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' | sed 's/@.*//' | sort -u)
  local bad
  bad=$(grep -Ev "^($allowed)$" <<<"$names" | grep -v '^LIB' || true)
  if [ -n "$bad" ]; then
    echo "$so exports names outside its API:"; sed 's/^/    /' <<<"$bad"; fail=1
  fi
  for want in "$@"; do
    grep -qx "$want" <<<"$names" || { echo "$so does not export $want"; fail=1; }
  done
  echo "$so: $(wc -l <<<"$names") names checked"
}
check libclckpt.so 'clCkpt[A-Za-z]*|clHeap[A-Za-z]*|clOsal[A-Za-z]*|clName[A-Za-z]*|clStrdup' \
  clCkptInitialize clCkptCheckpointRead clHeapFree
check libSaCkpt.so 'saCkpt[A-Za-z_0-9]*|saAis[A-Za-z]*|ncsCkpt[A-Za-z]*' \
  saCkptInitialize saCkptInitialize_2 saCkptCheckpointRead saCkptSectionIdFree saCkptIOVectorElementDataFree \
  saCkptTrack saAisNameLend saAisNameBorrow ncsCkptRegisterCkptArrivalCallback
check libclckpt-core.so.1 'clckpt_core_get|saf_core_get' clckpt_core_get saf_core_get
exit $fail
