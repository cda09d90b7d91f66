# libclckpt: the OpenClovis checkpoint API on a Go engine. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
GO ?= go
CC ?= gcc
PREFIX ?= /usr/local
BUILD := build
LIB := $(BUILD)/lib
BIN := $(BUILD)/bin
VERSION := 1.0.0

CFLAGS_LIB := -std=gnu99 -O2 -g -Wall -Wextra -Werror -fPIC -Iinclude
CFLAGS_PROG := -std=gnu99 -O2 -g -Wall -Werror -Iinclude
LDFLAGS_PROG := -L$(LIB) -lclckpt -lpthread -Wl,-rpath,$(abspath $(LIB))

CORE := $(LIB)/libclckpt-core.so.1
FRONT := $(LIB)/libclckpt.so.$(VERSION)
SAF_FRONT := $(LIB)/libSaCkpt.so.$(VERSION)
FRONT_SRC := capi/front/front.c capi/front/common.c capi/front/loader.c capi/front/backup.c
SAF_SRC := capi/front/saf.c capi/front/loader.c
GO_SOURCES := $(shell find capi engine config replication internal -name '*.go' -not -name '*_test.go') go.mod go.sum
HEADERS := $(wildcard include/*.h)
COUNTER := $(BIN)/ckptTest
PEER := $(BIN)/ckptPeer
FAULTS := $(BIN)/ckptFaults
SOAK := $(BIN)/ckptSoak
SOAK_TIME ?= 10m
CLCKPT := $(BIN)/clckpt

.PHONY: help build lib test test-go test-c test-exports test-saf-headers test-valgrind test-asan test-fuzz fuzz fuzz-go test-install fuzz-saf soak bench demo demo-saf install clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: lib $(COUNTER) $(CLCKPT) ## build the library, the clckpt command and the counter example
	$(GO) build ./...

lib: $(FRONT) $(SAF_FRONT) $(CORE) ## build libclckpt.so, libSaCkpt.so and their Go core

# The Go part: a c-shared library exporting one symbol per front (capi/core.map). osusergo: user
# lookups (a backup's owner) read /etc/passwd in Go instead of calling the host's NSS modules from
# the library's threads (valgrind saw invalid writes inside getpwuid_r called that way).
# Its debug information is DWARF 4: valgrind 3.19 (Debian 12's) stops at the DW_FORM_addrx of Go's
# DWARF 5 ("get_Form_szB: unhandled 27") and every test under memcheck fails. A Go that no longer
# knows the experiment builds with its default.
comma := ,
NODWARF5 := $(if $(GOEXPERIMENT),$(GOEXPERIMENT)$(comma))nodwarf5
CORE_ENV := $(shell GOEXPERIMENT=$(NODWARF5) $(GO) env GOEXPERIMENT >/dev/null 2>&1 && echo GOEXPERIMENT=$(NODWARF5))
$(CORE): $(GO_SOURCES) capi/glue.c capi/glue.h capi/core.h capi/saf_glue.c capi/saf_glue.h capi/saf_core.h capi/core.map $(HEADERS)
	@mkdir -p $(LIB)
	$(CORE_ENV) $(GO) build -buildmode=c-shared -tags osusergo \
	  -ldflags "-extldflags '-Wl,--version-script=$(abspath capi/core.map) -Wl,-soname,libclckpt-core.so.1'" \
	  -o $@ ./capi
	rm -f $(LIB)/libclckpt-core.so.h

# The C front library programs link with: the API and nothing else (capi/front/libclckpt.map).
$(FRONT): $(FRONT_SRC) capi/front/loader.h capi/front/front.h capi/core.h capi/saf_core.h capi/front/libclckpt.map $(HEADERS)
	@mkdir -p $(LIB)
	$(CC) $(CFLAGS_LIB) -shared -Wl,-soname,libclckpt.so.1 -Wl,-z,defs \
	  -Wl,--version-script=capi/front/libclckpt.map -o $@ $(FRONT_SRC) -ldl -lpthread
	ln -sf libclckpt.so.$(VERSION) $(LIB)/libclckpt.so.1
	ln -sf libclckpt.so.1 $(LIB)/libclckpt.so

# The SAF front library (saCkpt.h) over the same core: the SAF API and nothing else (capi/front/libSaCkpt.map).
$(SAF_FRONT): $(SAF_SRC) capi/front/loader.h capi/core.h capi/saf_core.h capi/front/libSaCkpt.map $(HEADERS)
	@mkdir -p $(LIB)
	$(CC) $(CFLAGS_LIB) -shared -Wl,-soname,libSaCkpt.so.1 -Wl,-z,defs \
	  -Wl,--version-script=capi/front/libSaCkpt.map -o $@ $(SAF_SRC) -ldl -lpthread
	ln -sf libSaCkpt.so.$(VERSION) $(LIB)/libSaCkpt.so.1
	ln -sf libSaCkpt.so.1 $(LIB)/libSaCkpt.so

$(CLCKPT): $(GO_SOURCES) $(shell find cmd -name '*.go')
	@mkdir -p $(BIN)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $@ ./cmd/clckpt

$(COUNTER): examples/counter/ckptTest.c examples/counter/ckptTestMain.c examples/counter/ckptTest.h $(FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -o $@ examples/counter/ckptTest.c examples/counter/ckptTestMain.c $(LDFLAGS_PROG)

# One side of the cross-process callback tests (gotests/callbacks_test.go).
$(PEER): ctests/peer.c ctests/check.h $(FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -o $@ ctests/peer.c $(LDFLAGS_PROG)

# The C side of the fault tests (gotests/faults_test.go): disk full, bad data directories.
$(FAULTS): ctests/faults.c ctests/check.h $(FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -o $@ ctests/faults.c $(LDFLAGS_PROG)

# One member of the soak test (gotests/soak_test.go).
$(SOAK): ctests/soak.c $(FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -Wextra -o $@ ctests/soak.c $(LDFLAGS_PROG)

test: test-go test-c test-valgrind test-asan test-fuzz ## run every test (Go with the race detector, the C tests, under valgrind and ASan, the fuzz corpus)

# The timeout catches a hang; under load (a CPU hog beside it) gotests alone passed 10 minutes.
test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

test-c: lib $(COUNTER) test-install test-exports test-saf-headers ## run the C tests against the real library
	CC="$(CC)" BUILD="$(BUILD)" ctests/readme.sh
	CC="$(CC)" BUILD="$(BUILD)" ctests/run.sh

# Each library exports its API and nothing else; the core exports its two tables.
test-exports: lib ## check the symbols each library exports (nm -D --defined-only)
	ctests/exports.sh $(LIB)

# A B.01.01 (OpenAIS) style and a B.02.02 (OpenSAF) style program compile unchanged, and link.
test-saf-headers: lib
	@mkdir -p $(BUILD)/ctests
	for f in ctests/saf/compile_*.c; do \
	  $(CC) -std=gnu99 -Wall -Wextra -Werror -Iinclude -o $(BUILD)/ctests/$$(basename $$f .c) $$f -L$(LIB) -lSaCkpt -Wl,-rpath,$(abspath $(LIB)) || exit 1; \
	done

# About 5 minutes on 2 cores: each test runs under memcheck with --track-origins (Go's own noise:
# ctests/valgrind.supp and ctests/vgcheck).
test-valgrind: lib ## run the C tests under valgrind memcheck
	VALGRIND=1 CC="$(CC)" BUILD="$(BUILD)" ctests/run.sh

# Sanitizer builds: the front library and the programs with clang's ASan and UBSan; the Go core is
# the same file (a symlink beside the front, where the front looks for it), not instrumented. Its
# malloc and free calls go through ASan; Go's own heap is outside ASan and LSan (ctests/lsan.supp).
SAN_CC ?= clang
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_FRONT := $(BUILD)/asan/lib/libclckpt.so.1
FUZZ_FRONT := $(BUILD)/fuzz/lib/libclckpt.so.1
FUZZER := $(BUILD)/fuzz/fuzz_api
FUZZ_TIME ?= 300
FUZZ_CORPUS := ctests/fuzz/corpus
FUZZ_ENV = TMPDIR=$$tmp LSAN_OPTIONS=suppressions=$(abspath ctests/lsan.supp):print_suppressions=0 \
  ASAN_OPTIONS=abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

$(BUILD)/%/lib/libclckpt.so.1: $(FRONT_SRC) capi/front/loader.h capi/front/front.h capi/core.h capi/saf_core.h capi/front/libclckpt.map $(HEADERS) $(CORE)
	@mkdir -p $(@D)
	$(SAN_CC) $(CFLAGS_LIB) -O1 $(SANITIZE) $(if $(findstring /fuzz/,$@),-fsanitize=fuzzer-no-link) -shared \
	  -Wl,-soname,libclckpt.so.1 -Wl,--version-script=capi/front/libclckpt.map -o $@ $(FRONT_SRC) -ldl -lpthread
	ln -sf libclckpt.so.1 $(@D)/libclckpt.so
	ln -sf $(abspath $(CORE)) $(@D)/libclckpt-core.so.1

$(BUILD)/%/lib/libSaCkpt.so.1: $(SAF_SRC) capi/front/loader.h capi/core.h capi/saf_core.h capi/front/libSaCkpt.map $(HEADERS) $(CORE)
	@mkdir -p $(@D)
	$(SAN_CC) $(CFLAGS_LIB) -O1 $(SANITIZE) -shared \
	  -Wl,-soname,libSaCkpt.so.1 -Wl,--version-script=capi/front/libSaCkpt.map -o $@ $(SAF_SRC) -ldl -lpthread
	ln -sf libSaCkpt.so.1 $(@D)/libSaCkpt.so
	ln -sf $(abspath $(CORE)) $(@D)/libclckpt-core.so.1

# About 20 s on 2 cores (40 s when they are busy).
test-asan: $(ASAN_FRONT) $(BUILD)/asan/lib/libSaCkpt.so.1 ## run the C tests with AddressSanitizer and UBSan
	ASAN=1 CC="$(SAN_CC)" BUILD="$(BUILD)" ctests/run.sh

SAF_FUZZER := $(BUILD)/fuzz/fuzz_saf
SAF_FUZZ_CORPUS := ctests/fuzz/saf_corpus
$(SAF_FUZZER): ctests/fuzz/fuzz_saf.c ctests/fuzz/fuzz_env.h $(BUILD)/fuzz/lib/libSaCkpt.so.1 $(HEADERS)
	$(SAN_CC) -std=gnu99 -O1 -g -Wall -Wextra -Werror -Iinclude $(SANITIZE) -fsanitize=fuzzer -o $@ $< \
	  -L$(BUILD)/fuzz/lib -lSaCkpt -lpthread -Wl,-rpath,$(abspath $(BUILD)/fuzz/lib)

$(FUZZER): ctests/fuzz/fuzz_api.c ctests/fuzz/fuzz_env.h $(FUZZ_FRONT) $(HEADERS)
	$(SAN_CC) -std=gnu99 -O1 -g -Wall -Wextra -Werror -Iinclude $(SANITIZE) -fsanitize=fuzzer -o $@ $< \
	  -L$(BUILD)/fuzz/lib -lclckpt -lpthread -Wl,-rpath,$(abspath $(BUILD)/fuzz/lib)

# Replays the regression inputs (each in a process of its own: see ctests/fuzz/README.md), then
# the committed corpus, which it mutates for a few seconds (new inputs are thrown away).
test-fuzz: $(FUZZER) $(SAF_FUZZER) ## run the API fuzzers briefly over their committed corpora
	tmp=$$(mktemp -d) && mkdir $$tmp/new && \
	  for f in $(FUZZ_CORPUS)/regress-*; do $(FUZZ_ENV) $(FUZZER) -timeout=30 $$f || exit 1; done && \
	  $(FUZZ_ENV) $(FUZZER) -max_total_time=15 -max_len=512 -timeout=30 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ $$tmp/new $(FUZZ_CORPUS); rc=$$?; rm -rf $$tmp; exit $$rc
	tmp=$$(mktemp -d) && mkdir $$tmp/new && \
	  $(FUZZ_ENV) $(SAF_FUZZER) -max_total_time=10 -max_len=512 -timeout=30 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/saf- $$tmp/new $(SAF_FUZZ_CORPUS); rc=$$?; rm -rf $$tmp; exit $$rc

fuzz-saf: $(SAF_FUZZER) ## fuzz the SAF API for FUZZ_TIME seconds (default 300)
	@mkdir -p $(BUILD)/fuzz/saf_corpus
	tmp=$$(mktemp -d) && $(FUZZ_ENV) $(SAF_FUZZER) -max_total_time=$(FUZZ_TIME) -max_len=512 -timeout=30 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/saf- $(BUILD)/fuzz/saf_corpus $(SAF_FUZZ_CORPUS); rc=$$?; rm -rf $$tmp; exit $$rc

# New inputs go to $(BUILD)/fuzz/corpus; crashes to $(BUILD)/fuzz/ (see ctests/fuzz/README.md).
fuzz: $(FUZZER) ## fuzz the C API for FUZZ_TIME seconds (default 300)
	@mkdir -p $(BUILD)/fuzz/corpus
	tmp=$$(mktemp -d) && $(FUZZ_ENV) $(FUZZER) -max_total_time=$(FUZZ_TIME) -max_len=512 -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus $(FUZZ_CORPUS); rc=$$?; rm -rf $$tmp; exit $$rc

# SOAK_TIME of 64 threads calling the whole API across 3 member processes and a clckpt serve node;
# fails on an undocumented result, a dead process, or memory, goroutines or fds that grow (RELIABILITY.md).
soak: lib $(SOAK) ## run the soak test for SOAK_TIME (default 10m; make test runs a short one)
	SOAK_TIME=$(SOAK_TIME) $(GO) test -count=1 -v -timeout 0 -run '^TestSoak$$' ./gotests/

test-install: lib ## install into a temporary prefix, build and run the counter example from it
	CC="$(CC)" BUILD="$(BUILD)" MAKE="$(MAKE)" ctests/install.sh

# Every Go decoder of bytes from disk or the network has a FuzzXxx target; `make test` runs their
# seeds, this runs each one for FUZZ_GO_TIME. Go's fuzzer can report "context deadline exceeded"
# when its time runs out during a slow call, with no failing input: only a failing input (saved
# under testdata/fuzz, then replayed by `make test`) or a panic fails the run.
FUZZ_GO_TIME ?= 30s
fuzz-go: ## run every Go fuzz target for FUZZ_GO_TIME each (default 30s)
	@set -eo pipefail; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
	  for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/p' $$file); do \
	    echo "== $$(dirname $$file) $$f"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZ_GO_TIME) -parallel 1 ./$$(dirname $$file) 2>&1) \
	      || { echo "$$out"; echo "$$out" | grep -q 'Failing input\|panic:' && exit 1; \
	           echo "(the fuzzer's clock ran out inside a call: no failing input)"; }; echo "$$out" | tail -3; \
	  done; \
	done

# About 12 minutes on 2 cores. Redis (redis-server, redis-benchmark) is installed if missing.
bench: lib $(CLCKPT) ## run the benchmarks (engine vs Badger, C API, SAF vs clCkpt, throughput and life cycle, replication vs Redis, backup and restore)
	$(GO) run ./bench/engine -ops 10000 -rounds 4
	$(GO) run ./bench/backup
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -o $(BIN)/capi_bench bench/capi/capi_bench.c $(LDFLAGS_PROG) -ldl
	data=$$(mktemp -d) && CLCKPT_DATA_DIR=$$data CLCKPT_NODE=bench CLCKPT_PORT=$$((20000 + RANDOM % 10000)) $(BIN)/capi_bench; rc=$$?; rm -rf $$data; exit $$rc
	$(CC) $(CFLAGS_PROG) -o $(BIN)/saf_bench bench/capi/saf_bench.c $(LDFLAGS_PROG) -lSaCkpt
	data=$$(mktemp -d) && CLCKPT_DATA_DIR=$$data CLCKPT_NODE=bench CLCKPT_PORT=$$((20000 + RANDOM % 10000)) $(BIN)/saf_bench; rc=$$?; rm -rf $$data; exit $$rc
	$(CC) $(CFLAGS_PROG) -o $(BIN)/saf_wr_bench bench/capi/saf_wr_bench.c $(LDFLAGS_PROG) -lSaCkpt
	$(CC) $(CFLAGS_PROG) -Wextra -o $(BIN)/life_bench bench/capi/life_bench.c $(LDFLAGS_PROG)
	bench/capi/life.sh
	bench/replication/run.sh

demo: lib $(COUNTER) ## run the counter example on the embedded default
	examples/counter/demo.sh $(COUNTER)

HOTSTANDBY := $(BIN)/hotstandby
$(HOTSTANDBY): examples/saf/hotstandby.c $(SAF_FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -Wextra -o $@ $< -L$(LIB) -lSaCkpt -Wl,-rpath,$(abspath $(LIB))

demo-saf: lib $(HOTSTANDBY) ## run the SAF hot-standby example (arrival callbacks, kill -9, take-over)
	examples/saf/demo.sh $(HOTSTANDBY)

install: lib ## install both libraries, the headers, clckpt.pc and SaCkpt.pc under PREFIX (default /usr/local)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/clckpt/opensaf
	install -m 0755 $(FRONT) $(SAF_FRONT) $(CORE) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libclckpt.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libclckpt.so.1
	ln -sf libclckpt.so.1 $(DESTDIR)$(PREFIX)/lib/libclckpt.so
	ln -sf libSaCkpt.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libSaCkpt.so.1
	ln -sf libSaCkpt.so.1 $(DESTDIR)$(PREFIX)/lib/libSaCkpt.so
	install -m 0644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/clckpt/
	install -m 0644 include/opensaf/cpsv_papi.h $(DESTDIR)$(PREFIX)/include/clckpt/opensaf/
	for pc in clckpt SaCkpt; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' capi/front/$$pc.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc || exit 1; \
	done

clean: ## remove build output
	rm -rf $(BUILD)
