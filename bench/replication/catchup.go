package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/replication/directory"
)

// catchUp: a replica's node is killed, the active takes -catchup-mib of new data (more than its
// in-memory tail: the replica needs a snapshot), the node is started again and the time from its start
// until it is back in the in-sync set gives the rate. Three rounds; the median counts.
func catchUp() {
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	port := freePort()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	// The active logs "replica copied" with the time the copy took, from its first message to the
	// follower's last acknowledgement.
	copies := make(chan time.Duration, 64)
	a := memberLogging(filepath.Join(dir, "a"), "a", directory.KindServer, port, "", func(r slog.Record) {
		if r.Message != "replica copied" {
			return
		}
		r.Attrs(func(at slog.Attr) bool {
			if at.Key == "took" {
				if d, err := time.ParseDuration(at.Value.String()); err == nil {
					copies <- d
				}
			}
			return true
		})
	})
	defer a.Close()
	b := startNode("b", filepath.Join(dir, "b"), url)
	time.Sleep(200 * time.Millisecond)
	const sectionSize = 64 << 10
	n := *bulkMiB << 20 / sectionSize
	attrs := &ckpt.Attributes{Flags: ckpt.WriteActiveReplica, Retention: 0, MaxSections: uint32(n + 1), MaxSectionIDSize: 16}
	var h ckpt.Checkpoint
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("bulk-%d", i)
		var err error
		h, err = a.Open(ctx, name, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		must(err)
		if e := entry(a, name); e.Active == a.Name() && len(e.Replicas) == 2 {
			break
		}
		_ = h.Close()
	}
	for !entry(a, name).IsSynced("b") { // the first, empty copy
		time.Sleep(10 * time.Millisecond)
	}
	for len(copies) > 0 {
		<-copies
	}
	data := make([]byte, sectionSize)
	var times, copyTimes stats.Samples
	var each []string
	for round := 0; round < *catchUps; round++ {
		b.kill9()
		for i := range data {
			data[i] = byte(i*7 + round)
		}
		for i := 0; i < n; i++ {
			data[0], data[1] = byte(i), byte(i>>8)
			id := []byte(fmt.Sprintf("s%06d", i))
			var err error
			if round == 0 {
				_, err = h.CreateSection(ctx, id, ckpt.Never, data)
			} else {
				err = h.Overwrite(ctx, id, data)
			}
			must(err)
		}
		for entry(a, name).IsSynced("b") { // wait until the active has taken the dead replica out
			time.Sleep(20 * time.Millisecond)
		}
		if *cpuProf != "" && round == 0 {
			f, err := os.Create(*cpuProf)
			must(err)
			must(pprof.StartCPUProfile(f))
		}
		start, self, busy := time.Now(), schedOf("self"), machineBusy()
		b = startNode("b", filepath.Join(dir, "b"), url)
		for !entry(a, name).IsSynced("b") {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(start)
		sender, follower := schedOf("self"), schedOf(strconv.Itoa(b.cmd.Process.Pid))
		sender.run, sender.wait = sender.run-self.run, sender.wait-self.wait
		others := machineBusy() - busy - sender.run - follower.run
		times.Add(took)
		select {
		case d := <-copies:
			copyTimes.Add(d)
			each = append(each, fmt.Sprintf("%s (copy %s, follower's anonymous memory %d MiB; on a processor / waiting for one: sender %s / %s, follower %s / %s; the rest of the machine busy %.2f processors)",
				stats.Round(took), stats.Round(d), b.rssAnon()>>20, stats.Round(sender.run), stats.Round(sender.wait),
				stats.Round(follower.run), stats.Round(follower.wait), others.Seconds()/took.Seconds()))
		case <-time.After(5 * time.Second):
			fail("the active logged no copy")
		}
		if *cpuProf != "" && round == 0 {
			pprof.StopCPUProfile()
		}
	}
	b.stop()
	bytes := float64(n * sectionSize)
	med := times.Percentile(50)
	fmt.Printf("catch-up of a restarted replica: %.0f MiB in %d sections of 64 KiB (a snapshot), from its start to in sync, %d rounds:\n", bytes/(1<<20), n, *catchUps)
	fmt.Printf("  median %s: %.0f MB/s = %.0f MiB/s (best %.0f MB/s; goal >= 200 MB/s)\n", stats.Round(med),
		bytes/1e6/med.Seconds(), bytes/(1<<20)/med.Seconds(), bytes/1e6/times.Percentile(1).Seconds())
	fmt.Printf("  rounds in order: %s\n", strings.Join(each, ", "))
	cmed := copyTimes.Percentile(50)
	fmt.Printf("  the copy alone (snapshot sent, installed and acknowledged): median %s: %.0f MB/s (best %.0f MB/s)\n",
		stats.Round(cmed), bytes/1e6/cmed.Seconds(), bytes/1e6/copyTimes.Percentile(1).Seconds())
	storeCeiling(n, sectionSize)
}

// storeCeiling times what the replica's store alone absorbs: the same sections written into a
// Badger store of this machine in 4 MiB batches, as an install does, over a copy already there (as
// in every round above but the first). No replication can catch up faster than its store writes.
func storeCeiling(n, sectionSize int) {
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	s, err := store.OpenBadger(store.BadgerOptions{Dir: dir})
	must(err)
	defer s.Close()
	data := make([]byte, sectionSize)
	var times stats.Samples
	var counts []string
	for round := 0; round <= *catchUps; round++ {
		start, before := time.Now(), s.Counters()
		var b store.Batch
		for i := 0; i < n; i++ {
			data[0], data[1], data[2] = byte(i), byte(i>>8), byte(round)
			b.Set([]byte(fmt.Sprintf("d-section-%06d", i)), append([]byte(nil), data...))
			if b.Size() >= 4<<20 || i == n-1 {
				must(s.Apply(&b))
				b.Reset()
			}
		}
		if round > 0 {
			times.Add(time.Since(start))
			counts = append(counts, storeCounts(s.Counters().Sub(before)))
		}
	}
	bytes := float64(n * sectionSize)
	med := times.Percentile(50)
	fmt.Printf("  the store alone (Badger, 4 MiB batches over the previous copy): median %s: %.0f MB/s (best %.0f MB/s)\n",
		stats.Round(med), bytes/1e6/med.Seconds(), bytes/1e6/times.Percentile(1).Seconds())
	fmt.Printf("  the store's work in each of those rounds: %s\n", strings.Join(counts, "; "))
}

// storeCounts describes what a piece of work cost a store.
func storeCounts(c store.Counters) string {
	return fmt.Sprintf("%d commits in %s (%d of 50 ms or more: %s; waiting for the collector %s), %d garbage counts (%s; %d skipped), %d value-log rewrites (%s), %d memtable flushes, %d level-0 compactions, %d others, %d writebacks",
		c.Commits, stats.Round(c.CommitTime), c.SlowCommits, stats.Round(c.SlowTime), stats.Round(c.GateWait), c.GCRefreshes, stats.Round(c.GCRefresh), c.GCSkipped,
		c.GCRewrites, stats.Round(c.GCRewrite), c.Flushes, c.L0Compacts, c.Compacts, c.Writebacks)
}

// sched is what a process's threads did, summed (/proc/PID/task/*/schedstat): time on a processor
// and time waiting for one (the kernel's run queue). Threads ended meanwhile are lost.
type sched struct{ run, wait time.Duration }

func schedOf(pid string) sched {
	var s sched
	tasks, _ := os.ReadDir("/proc/" + pid + "/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 1 {
			run, _ := strconv.ParseInt(f[0], 10, 64)
			wait, _ := strconv.ParseInt(f[1], 10, 64)
			s.run += time.Duration(run)
			s.wait += time.Duration(wait)
		}
	}
	return s
}

// machineBusy is the processor time the whole machine spent busy so far (/proc/stat; idle and
// iowait left out).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var ticks int64
	for i, v := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 {
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ 100
}
