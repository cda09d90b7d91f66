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
GO_SOURCES := $(shell find capi engine config replication internal -name '*.go' -not -name '*_test.go') go.mod go.sum
HEADERS := $(wildcard include/*.h)
COUNTER := $(BIN)/ckptTest
PEER := $(BIN)/ckptPeer
FAULTS := $(BIN)/ckptFaults
SOAK := $(BIN)/ckptSoak
SOAK_TIME ?= 10m
CLCKPT := $(BIN)/clckpt

.PHONY: help build lib test test-go test-c test-valgrind test-asan test-fuzz fuzz fuzz-go test-install soak bench demo install clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: lib $(COUNTER) $(CLCKPT) ## build the library, the clckpt command and the counter example
	$(GO) build ./...

lib: $(FRONT) $(CORE) ## build libclckpt.so and its Go core

# The Go part: a c-shared library exporting one symbol (capi/core.map).
$(CORE): $(GO_SOURCES) capi/glue.c capi/glue.h capi/core.h capi/core.map $(HEADERS)
	@mkdir -p $(LIB)
	$(GO) build -buildmode=c-shared \
	  -ldflags "-extldflags '-Wl,--version-script=$(abspath capi/core.map) -Wl,-soname,libclckpt-core.so.1'" \
	  -o $@ ./capi
	rm -f $(LIB)/libclckpt-core.so.h

# The C front library programs link with: the API and nothing else (capi/front/libclckpt.map).
$(FRONT): capi/front/front.c capi/front/common.c capi/front/backup.c capi/front/front.h capi/core.h capi/front/libclckpt.map $(HEADERS)
	@mkdir -p $(LIB)
	$(CC) $(CFLAGS_LIB) -shared -Wl,-soname,libclckpt.so.1 -Wl,-z,defs \
	  -Wl,--version-script=capi/front/libclckpt.map -o $@ capi/front/front.c capi/front/common.c capi/front/backup.c -ldl -lpthread
	ln -sf libclckpt.so.$(VERSION) $(LIB)/libclckpt.so.1
	ln -sf libclckpt.so.1 $(LIB)/libclckpt.so

$(CLCKPT): $(GO_SOURCES) $(shell find cmd -name '*.go')
	@mkdir -p $(BIN)
	$(GO) build -o $@ ./cmd/clckpt

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

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-c: lib $(COUNTER) test-install ## run the C tests against the real library
	CC="$(CC)" BUILD="$(BUILD)" ctests/readme.sh
	CC="$(CC)" BUILD="$(BUILD)" ctests/run.sh

# About 75 s on 2 cores: each test runs under memcheck (Go's own noise: ctests/valgrind.supp).
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

$(BUILD)/%/lib/libclckpt.so.1: capi/front/front.c capi/front/common.c capi/front/backup.c capi/front/front.h capi/core.h capi/front/libclckpt.map $(HEADERS) $(CORE)
	@mkdir -p $(@D)
	$(SAN_CC) $(CFLAGS_LIB) -O1 $(SANITIZE) $(if $(findstring /fuzz/,$@),-fsanitize=fuzzer-no-link) -shared \
	  -Wl,-soname,libclckpt.so.1 -Wl,--version-script=capi/front/libclckpt.map -o $@ capi/front/front.c capi/front/common.c capi/front/backup.c -ldl -lpthread
	ln -sf libclckpt.so.1 $(@D)/libclckpt.so
	ln -sf $(abspath $(CORE)) $(@D)/libclckpt-core.so.1

# About 20 s on 2 cores (40 s when they are busy).
test-asan: $(ASAN_FRONT) ## run the C tests with AddressSanitizer and UBSan
	ASAN=1 CC="$(SAN_CC)" BUILD="$(BUILD)" ctests/run.sh

$(FUZZER): ctests/fuzz/fuzz_api.c $(FUZZ_FRONT) $(HEADERS)
	$(SAN_CC) -std=gnu99 -O1 -g -Wall -Wextra -Werror -Iinclude $(SANITIZE) -fsanitize=fuzzer -o $@ $< \
	  -L$(BUILD)/fuzz/lib -lclckpt -lpthread -Wl,-rpath,$(abspath $(BUILD)/fuzz/lib)

# Replays the regression inputs (each in a process of its own: see ctests/fuzz/README.md), then
# the committed corpus, which it mutates for a few seconds (new inputs are thrown away).
test-fuzz: $(FUZZER) ## run the API fuzzer briefly over its committed corpus
	tmp=$$(mktemp -d) && mkdir $$tmp/new && \
	  for f in $(FUZZ_CORPUS)/regress-*; do $(FUZZ_ENV) $(FUZZER) -timeout=30 $$f || exit 1; done && \
	  $(FUZZ_ENV) $(FUZZER) -max_total_time=15 -max_len=512 -timeout=30 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ $$tmp/new $(FUZZ_CORPUS); rc=$$?; rm -rf $$tmp; exit $$rc

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

bench: lib $(CLCKPT) ## run the benchmarks (engine vs Badger, C API vs engine, replication vs Redis)
	$(GO) run ./bench/engine
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -o $(BIN)/capi_bench bench/capi/capi_bench.c $(LDFLAGS_PROG) -ldl
	data=$$(mktemp -d) && CLCKPT_DATA_DIR=$$data CLCKPT_NODE=bench CLCKPT_PORT=$$((20000 + RANDOM % 20000)) $(BIN)/capi_bench; rc=$$?; rm -rf $$data; exit $$rc
	bench/replication/run.sh

demo: lib $(COUNTER) ## run the counter example on the embedded default
	examples/counter/demo.sh $(COUNTER)

install: lib ## install the library, headers and clckpt.pc under PREFIX (default /usr/local)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/clckpt
	install -m 0755 $(FRONT) $(CORE) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libclckpt.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libclckpt.so.1
	ln -sf libclckpt.so.1 $(DESTDIR)$(PREFIX)/lib/libclckpt.so
	install -m 0644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/clckpt/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' capi/front/clckpt.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/clckpt.pc

clean: ## remove build output
	rm -rf $(BUILD)
