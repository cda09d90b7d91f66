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
GO_SOURCES := $(shell find capi engine config replication -name '*.go' -not -name '*_test.go') go.mod go.sum
HEADERS := $(wildcard include/*.h)
COUNTER := $(BIN)/ckptTest
PEER := $(BIN)/ckptPeer
SOAK := $(BIN)/ckptSoak
SOAK_TIME ?= 10m
CLCKPT := $(BIN)/clckpt

.PHONY: help build lib test test-go test-c test-valgrind test-install soak bench demo install clean

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
$(FRONT): capi/front/front.c capi/front/common.c capi/core.h capi/front/libclckpt.map $(HEADERS)
	@mkdir -p $(LIB)
	$(CC) $(CFLAGS_LIB) -shared -Wl,-soname,libclckpt.so.1 -Wl,-z,defs \
	  -Wl,--version-script=capi/front/libclckpt.map -o $@ capi/front/front.c capi/front/common.c -ldl -lpthread
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

# One member of the soak test (gotests/soak_test.go).
$(SOAK): ctests/soak.c $(FRONT) $(HEADERS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS_PROG) -Wextra -o $@ ctests/soak.c $(LDFLAGS_PROG)

test: test-go test-c test-valgrind ## run every test (Go with the race detector, the C tests, the C tests under valgrind)

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-c: lib $(COUNTER) test-install ## run the C tests against the real library
	CC="$(CC)" BUILD="$(BUILD)" ctests/readme.sh
	CC="$(CC)" BUILD="$(BUILD)" ctests/run.sh

# About 75 s on 2 cores: each test runs under memcheck (Go's own noise: ctests/valgrind.supp).
test-valgrind: lib ## run the C tests under valgrind memcheck
	VALGRIND=1 CC="$(CC)" BUILD="$(BUILD)" ctests/run.sh

# SOAK_TIME of 64 threads calling the whole API across 3 member processes and a clckpt serve node;
# fails on an undocumented result, a dead process, or memory, goroutines or fds that grow (RELIABILITY.md).
soak: lib $(SOAK) ## run the soak test for SOAK_TIME (default 10m; make test runs a short one)
	SOAK_TIME=$(SOAK_TIME) $(GO) test -count=1 -v -timeout 0 -run '^TestSoak$$' ./gotests/

test-install: lib ## install into a temporary prefix, build and run the counter example from it
	CC="$(CC)" BUILD="$(BUILD)" MAKE="$(MAKE)" ctests/install.sh

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
