package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
)

// throughput: 256 B overwrites from 8 and from 1 goroutine of this process, each its own section,
// in placement (a), beside redis-benchmark -c 8 and -c 1 (SET 256 B, no pipelining) against the
// same master (with its replica attached). The runs alternate, -throughput-time each.
func throughput() {
	r := dialRedis(*redisAddr)
	setFsync(r, "no")
	r.Close()
	a := newPlacementA()
	defer a.close()
	ids := make([][]byte, 8)
	for i := range ids {
		ids[i] = []byte(fmt.Sprintf("t%d", i))
		for _, h := range []ckpt.Checkpoint{a.all, a.hot} {
			_, err := h.CreateSection(ctx, ids[i], ckpt.Never, []byte("x"))
			must(err)
		}
	}
	fmt.Printf("256 B overwrites per second, placement (a), each writer its own section, %s per run, runs alternate\n\n", *tputTime)
	res := map[string][]float64{}
	for round := 0; round < 2; round++ {
		for _, n := range []int{8, 1} {
			res[fmt.Sprintf("all %d", n)] = append(res[fmt.Sprintf("all %d", n)], ourRate(a.all, ids[:n]))
			res[fmt.Sprintf("redis %d", n)] = append(res[fmt.Sprintf("redis %d", n)], redisRate(n))
			res[fmt.Sprintf("async %d", n)] = append(res[fmt.Sprintf("async %d", n)], ourRate(a.hot, ids[:n]))
		}
	}
	best := func(k string) float64 {
		m := 0.0
		for _, v := range res[k] {
			m = max(m, v)
		}
		return m
	}
	for _, k := range []string{"redis 8", "redis 1", "all 8", "all 1", "async 8", "async 1"} {
		fmt.Printf("  %-8s ops/s %s (best %.0f)\n", k, fmtRates(res[k]), best(k))
	}
	fmt.Println("asynchronous (collocated, 1 standby replica), 8 writers vs redis-benchmark -c 8 (ops/s, best run):")
	stats.Verdict(best("async 8")/best("redis 8"), 5, true)
	fmt.Println("asynchronous, 8 writers vs our 1 writer:")
	stats.Verdict(best("async 8")/best("async 1"), 1.5, true)
	fmt.Println("WR_ALL_REPLICAS (2 replicas), 8 writers vs redis-benchmark -c 8 (SET, no WAIT):")
	stats.Verdict(best("all 8")/best("redis 8"), 0, true)
	fmt.Println("WR_ALL_REPLICAS, 8 writers vs our 1 writer:")
	stats.Verdict(best("all 8")/best("all 1"), 1.5, true)
	fmt.Println("redis-benchmark -c 8 vs -c 1:")
	stats.Verdict(best("redis 8")/best("redis 1"), 0, true)
}

func fmtRates(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(s, " / ")
}

// ourRate runs one writer per section for -throughput-time and returns the calls per second.
func ourRate(h ckpt.Checkpoint, ids [][]byte) float64 {
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := make([]byte, 256)
			for !stop.Load() {
				must(h.Overwrite(ctx, id, data))
				n.Add(1)
			}
		}()
	}
	time.Sleep(*tputTime)
	stop.Store(true)
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// redisRate runs redis-benchmark with c clients (SET of 256 B, no pipelining) for about
// -throughput-time and returns its requests per second.
func redisRate(c int) float64 {
	host, port, _ := strings.Cut(*redisAddr, ":")
	n := int(tputTime.Seconds() * 40000 * float64(min(c, 2)))
	out, err := exec.Command(*redisBench, "-h", host, "-p", port, "-c", strconv.Itoa(c), "-n", strconv.Itoa(n),
		"-t", "set", "-d", "256", "-P", "1", "--csv").Output()
	if err != nil {
		failf("redis-benchmark: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, ",")
		if len(f) > 1 && strings.Trim(f[0], `"`) == "SET" {
			v, err := strconv.ParseFloat(strings.Trim(f[1], `"`), 64)
			must(err)
			return v
		}
	}
	failf("redis-benchmark said: %s", out)
	return 0
}
