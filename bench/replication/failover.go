package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/replication/directory"
)

// failover: two server members (processes) hold a WR_ALL_REPLICAS checkpoint that this process
// (an application member, placement (b)) writes in a loop: numbered writes round robin over 16
// sections. At a random moment the active's process is killed with SIGKILL; the time from the kill
// to the first write that returns after the process is gone (reaped) is measured, a write in
// flight at the kill included.
// After each round every section must hold the last write acknowledged for it; the killed node
// is restarted and the next round begins when both replicas are in sync.
func failover() {
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	port := freePort()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	app := member(filepath.Join(dir, "app"), "app", directory.KindApplication, port, "")
	defer app.Close()
	nodes := map[string]*node{}
	for _, n := range []string{"s1", "s2"} {
		nodes[n] = startNode(n, filepath.Join(dir, n), url)
	}
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	const sections = 16
	attrs := &ckpt.Attributes{Flags: ckpt.WriteAllReplicas, Retention: ckpt.RetainForever, MaxSections: sections, MaxSectionIDSize: 8}
	var h ckpt.Checkpoint
	var name string
	for i := 0; ; i++ { // once both servers are seen, the replicas are on s1 and s2
		name = fmt.Sprintf("failover-%d", i)
		var err error
		h, err = app.Open(ctx, name, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		must(err)
		if len(entry(app, name).Replicas) == 2 {
			defer h.Close()
			break
		}
		_ = h.Close()
		time.Sleep(50 * time.Millisecond)
	}
	ids := make([][]byte, sections)
	for i := range ids {
		ids[i] = []byte(fmt.Sprintf("s%02d", i))
		_, err := h.CreateSection(ctx, ids[i], ckpt.Never, []byte("0"))
		must(err)
	}
	var times stats.Samples
	acked := make([]int, sections)
	seq := 0
	lost := 0
	for round := 0; round < *failovers; round++ {
		e := entry(app, name)
		for !e.IsSynced(other(e.Active)) { // both replicas in sync before the kill
			time.Sleep(10 * time.Millisecond)
			e = entry(app, name)
		}
		victim := e.Active
		// ns since start: of the kill, and of the end of the victim (reaped). A write that returns
		// after the victim's end was served by the new active.
		var killedAt, deadAt atomic.Int64
		start := time.Now()
		var firstAfter time.Duration
		after := 0
		go func() {
			time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
			killedAt.Store(int64(time.Since(start)))
			nodes[victim].kill9()
			deadAt.Store(int64(time.Since(start)))
		}()
		for after < 100 { // write until 100 writes returned after the kill
			seq++
			i := seq % sections
			if err := h.Overwrite(ctx, ids[i], []byte(strconv.Itoa(seq))); err != nil {
				failf("round %d: a write failed: %v", round, err)
			}
			acked[i] = seq
			if deadAt.Load() != 0 {
				if after == 0 {
					firstAfter = time.Since(start) - time.Duration(killedAt.Load())
				}
				after++
			}
		}
		times.Add(firstAfter)
		lost += checkAcked(h, ids, acked, round)
		nodes[victim] = startNode(victim, filepath.Join(dir, victim), url)
	}
	fmt.Printf("failover: kill -9 of the active during WR_ALL_REPLICAS writes to the first write that returns after it is gone, %d rounds:\n", *failovers)
	fmt.Printf("  p50 %s  p90 %s  p99 %s  max %s; acknowledged writes lost: %d\n", stats.Round(times.Percentile(50)),
		stats.Round(times.Percentile(90)), stats.Round(times.Percentile(99)), stats.Round(times.Percentile(100)), lost)
	stats.Within("p99", times.Percentile(99), 50*time.Millisecond)
	fmt.Printf("  no acknowledged write lost: %s\n", stats.Met(lost == 0))
}

// checkAcked reads every section and counts those that do not hold the last write acknowledged
// for them (acked[i]).
func checkAcked(h ckpt.Checkpoint, ids [][]byte, acked []int, round int) int {
	lost := 0
	buf := make([]byte, 16)
	for i, id := range ids {
		el := []ckpt.ReadElement{{SectionID: id, Buffer: buf}}
		must(h.Read(ctx, el))
		if got := string(buf[:el[0].ReadSize]); got != strconv.Itoa(acked[i]) && acked[i] != 0 {
			lost++
			fmt.Printf("  round %d: section %s holds %q, the last acknowledged write was %d\n", round, id, got, acked[i])
		}
	}
	return lost
}

func other(s string) string {
	if s == "s1" {
		return "s2"
	}
	return "s1"
}
