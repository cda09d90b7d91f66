# libclckpt: the OpenClovis checkpoint API on a Go engine. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
GO ?= go
PREFIX ?= /usr/local
BUILD := build

.PHONY: help build test test-go bench demo clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build everything
	$(GO) build ./...

test: test-go ## run every test (Go with the race detector, then the C tests)

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench: ## run the benchmarks (engine vs bare Badger); results go in BENCHMARKS.md
	$(GO) run ./bench/engine

demo: ## show the main job on the embedded default
	$(GO) test -count=1 -run Example -v ./engine/

clean: ## remove build output
	rm -rf $(BUILD)
