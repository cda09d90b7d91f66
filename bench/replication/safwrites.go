package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
)

var safWrBench = flag.String("saf-wr-bench", "build/bin/saf_wr_bench", "the SAF writer program (bench/capi/saf_wr_bench.c)")

// safWrites: the WR_ALL_REPLICAS line of placement (a) for a SAF program. The C program
// bench/capi/saf_wr_bench measures it beside the same Redis pair (appendfsync no), rounds
// alternating with its own SET + WAIT 1: a Go process cannot host the library's core, so the
// program and its standby run as processes of their own, on a data directory of their own.
func safWrites() {
	r := dialRedis(*redisAddr)
	setFsync(r, "no")
	r.Close()
	_, port, err := net.SplitHostPort(*redisAddr)
	must(err)
	dir, err := os.MkdirTemp("", "saf-wr-bench-")
	must(err)
	defer os.RemoveAll(dir)
	cmd := exec.Command(*safWrBench, port, strconv.Itoa(*ops), strconv.Itoa(*rounds))
	cmd.Env = append(os.Environ(), "CLCKPT_DATA_DIR="+dir, "CLCKPT_NODE=safbench", "CLCKPT_PORT="+strconv.Itoa(freePort()))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		failf("%s: %v", *safWrBench, err)
	}
	fmt.Println("(the same goal as placement (a)'s WR_ALL_REPLICAS line above: <= 0.3x)")
}
