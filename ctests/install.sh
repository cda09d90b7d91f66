#!/usr/bin/env bash
# The install test: `make install` into a temporary prefix, build the counter example against it
# with pkg-config alone (-Wall -Werror), run it briefly, and check that libclckpt.so exports only
# the API. Prints one line per check and "install: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
CC=${CC:-gcc}
BUILD=${BUILD:-build}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
pass=0
fail=0
ok() { echo "install: ok: $1"; pass=$((pass + 1)); }
bad() { echo "install: FAILED: $1"; fail=$((fail + 1)); }
done_() {
  echo "install: $pass passed, $fail failed"
  [ "$fail" = 0 ]
  exit
}

if ! command -v pkg-config >/dev/null; then
  bad "pkg-config is not installed (.ci/run installs it)"
  done_
fi

if $MAKE -s install PREFIX="$prefix" BUILD="$BUILD" >"$tmp/install.log" 2>&1; then
  ok "make install PREFIX=$prefix"
else
  bad "make install"
  sed 's/^/    /' "$tmp/install.log"
  done_
fi
lib=$prefix/lib
for f in libclckpt.so libclckpt.so.1 libclckpt-core.so.1 pkgconfig/clckpt.pc; do
  [ -e "$lib/$f" ] && ok "installed lib/$f" || bad "lib/$f is missing"
done
[ -f "$prefix/include/clckpt/clCkptApi.h" ] && ok "installed include/clckpt/clCkptApi.h" || bad "clCkptApi.h is missing"
for f in libSaCkpt.so libSaCkpt.so.1 pkgconfig/SaCkpt.pc; do
  [ -e "$lib/$f" ] && ok "installed lib/$f" || bad "lib/$f is missing"
done
soname=$(objdump -p "$lib/libSaCkpt.so" 2>/dev/null | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libSaCkpt.so.1 ] && ok "libSaCkpt.so has the soname libSaCkpt.so.1" || bad "libSaCkpt.so soname '$soname'"
for f in saAis.h saCkpt.h saCkpt_B_02_03.h cpsv_papi.h opensaf/cpsv_papi.h; do
  [ -f "$prefix/include/clckpt/$f" ] && ok "installed include/clckpt/$f" || bad "include/clckpt/$f is missing"
done

# The counter example, unchanged, built with what pkg-config says and nothing from the source tree.
export PKG_CONFIG_PATH=$lib/pkgconfig
if flags=$(pkg-config --cflags --libs clckpt) && [ -n "$flags" ]; then
  ok "pkg-config --cflags --libs clckpt: $flags"
else
  bad "pkg-config does not know clckpt"
  done_
fi
# shellcheck disable=SC2086 # flags is a list of words
if (cd "$tmp" && $CC -std=gnu99 -Wall -Werror -o ckptTest "$OLDPWD/examples/counter/ckptTest.c" \
      "$OLDPWD/examples/counter/ckptTestMain.c" $flags -lpthread) >"$tmp/cc.log" 2>&1; then
  ok "the counter example compiles with -Wall -Werror against the installed headers"
else
  bad "the counter example does not compile against the installed files"
  sed 's/^/    /' "$tmp/cc.log"
  done_
fi

# Run it: a fresh checkpoint, two values written (16777215 and 16777216, see demo.sh), then a clean
# exit. LD_DEBUG shows which core the library loaded: it must be the installed one.
mkdir -p "$tmp/data"
LD_LIBRARY_PATH=$lib LD_DEBUG=files LD_DEBUG_OUTPUT=$tmp/ld CLCKPT_DATA_DIR=$tmp/data CLCKPT_NODE=install \
  timeout 60 "$tmp/ckptTest" --active --max-seq 16777217 >"$tmp/run.log" 2>&1
status=$?
if [ "$status" = 0 ] && grep -q '^CkptWrite: seq = 16777215$' "$tmp/run.log" &&
   grep -q '^CkptWrite: seq = 16777216$' "$tmp/run.log" && grep -q '^harness: finalize rc=0x0$' "$tmp/run.log" &&
   grep -q '^harness: exit 0$' "$tmp/run.log"; then
  ok "the installed counter example runs (wrote 16777215 and 16777216, finalized, exit 0)"
else
  bad "the counter example run (exit $status)"
  sed 's/^/    /' "$tmp/run.log"
fi
if cat "$tmp"/ld.* 2>/dev/null | grep -q "file=$lib/libclckpt-core.so.1 .*dynamically loaded"; then
  ok "it loaded the installed core ($lib/libclckpt-core.so.1)"
else
  bad "the installed core was not the one loaded"
fi

# The README's own commands, verbatim: install under $HOME/.local, build its C program with its
# pkg-config line, run the program with nothing else set (no LD_LIBRARY_PATH).
readme_home=$tmp/home
mkdir -p "$readme_home" "$tmp/readme"
awk '/^```c$/{f=1;next}/^```$/{f=0}f' README.md >"$tmp/readme/prog.c"
install_line=$(grep -m1 '^    make install PREFIX=' README.md | sed 's/^    //')
cc_line=$(grep -m1 '^    cc prog.c ' README.md | sed 's/^    //')
if [ -n "$install_line" ] && [ -n "$cc_line" ] &&
   HOME=$readme_home MAKEFLAGS="BUILD=$BUILD" bash -c "$install_line" >"$tmp/readme.log" 2>&1 &&
   (cd "$tmp/readme" && HOME=$readme_home CC=$CC bash -c "$cc_line") >>"$tmp/readme.log" 2>&1; then
  ok "README: '$install_line' and '$cc_line'"
  out=$(cd "$tmp/readme" && env -u LD_LIBRARY_PATH CLCKPT_DATA_DIR=$tmp/readme/data CLCKPT_NODE=readme \
        timeout 60 ./a.out 2>&1)
  [ "$out" = "seq = 42" ] && ok "README: the program built that way runs and prints 'seq = 42'" ||
    bad "README: the program built that way printed '$out'"
else
  bad "README: the install and build commands (install: '$install_line', build: '$cc_line')"
  sed 's/^/    /' "$tmp/readme.log"
fi

# Exports: the API's own names and the version node, nothing else (programs define globals such as
# seq and ckpt_handle). nm shows versioned names as name@@NODE.
exports() { nm -D --defined-only "$1" | awk '{print $NF}' | sed 's/@.*//' | sort -u; }
extra=$(exports "$lib/libclckpt.so" |
        grep -Ev '^(clCkpt[A-Za-z]+|clHeap[A-Za-z]+|clOsal[A-Za-z]+|clName[A-Za-z]+|clStrdup|LIBCLCKPT_1)$')
count=$(exports "$lib/libclckpt.so" | grep -c '^cl')
if [ -z "$extra" ]; then
  ok "libclckpt.so exports only clCkpt*, clHeap*, clOsal*, clName*, clStrdup and its version node"
else
  bad "libclckpt.so exports more than the API: $(echo $extra)"
fi
if [ "$count" = 51 ] && exports "$lib/libclckpt.so" | grep -qx clCkptInitialize; then
  ok "all 23 clCkpt functions, the 4 of clCkptIpi.h, the 13 of clCkptBackup.h and the 11 heap, OSAL and name functions are exported"
else
  bad "expected 51 exported functions, found $count"
fi
core_extra=$(exports "$lib/libclckpt-core.so.1" | grep -Ev '^(clckpt_core_get|saf_core_get|LIBCLCKPT_CORE_1)$')
[ -z "$core_extra" ] && ok "libclckpt-core.so exports only clckpt_core_get and saf_core_get" ||
  bad "libclckpt-core.so exports more: $(echo $core_extra)"

# A SAF (B.02.02) program built with pkg-config SaCkpt alone, and run against the installed libraries.
if flags=$(pkg-config --cflags --libs SaCkpt) && [ -n "$flags" ] &&
   # shellcheck disable=SC2086 # flags is a list of words
   (cd "$tmp" && $CC -std=gnu99 -Wall -Werror -o saf "$OLDPWD/ctests/saf/compile_b0202.c" $flags) >"$tmp/saf.log" 2>&1; then
  ok "a SAF program compiles with pkg-config SaCkpt ($flags)"
  mkdir -p "$tmp/safdata"
  if env -u LD_LIBRARY_PATH CLCKPT_DATA_DIR=$tmp/safdata CLCKPT_NODE=install CLCKPT_PORT=$((20000 + RANDOM % 10000)) timeout 60 "$tmp/saf" >>"$tmp/saf.log" 2>&1; then
    ok "the installed SAF program runs and exits 0"
  else
    bad "the installed SAF program failed"
    sed 's/^/    /' "$tmp/saf.log"
  fi
else
  bad "a SAF program does not build with pkg-config SaCkpt"
  sed 's/^/    /' "$tmp/saf.log"
fi
done_
