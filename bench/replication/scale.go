package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
)

// scale: -scale distinct WR_ALL_REPLICAS checkpoints opened (created) and written once each by this
// process (an application member) with their replicas on two clckpt serve members, the cost per
// checkpoint by tenth (it must not grow with the count), and the memory per open checkpoint of the
// writer and of a server; then -scale-alone checkpoints on a member alone, all held open, and its RSS.
func scale() {
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	port := freePort()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	w := member(filepath.Join(dir, "w"), "w", directory.KindApplication, port, "")
	s1 := startNode("s1", filepath.Join(dir, "s1"), url)
	s2 := startNode("s2", filepath.Join(dir, "s2"), url)
	time.Sleep(300 * time.Millisecond) // both leases seen: every checkpoint goes to s1 and s2
	r0, s0 := rss(), s1.rssAnon()
	per, first, last := openMany(w, "rep", *scaleN, ckpt.WriteAllReplicas, s1, s2)
	runtime.GC()
	debug.FreeOSMemory()
	r1, s1a := rss(), s1.rssAnon()
	fmt.Printf("%d WR_ALL_REPLICAS checkpoints, replicas on 2 server processes, open + create section + overwrite each:\n", *scaleN)
	fmt.Printf("  %s per checkpoint; first tenth %s, last tenth %s each\n", stats.Round(per), stats.Round(first), stats.Round(last))
	fmt.Printf("  memory per open checkpoint: writer %d B (RSS), server s1 %d B (anonymous RSS, %d replicas)\n",
		(r1-r0)/int64(*scaleN), (s1a-s0)/int64(*scaleN), *scaleN)
	stats.Verdict(float64(last)/float64(first), 1.5, false)
	s1.stop()
	s2.stop()
	_ = w.Close()

	m := member(filepath.Join(dir, "alone"), "alone", directory.KindServer, freePort(), "")
	defer m.Close()
	r0 = rss()
	per, first, last = openMany(m, "one", *scaleAlone, ckpt.WriteActiveReplica)
	runtime.GC()
	debug.FreeOSMemory()
	r1 = rss()
	fmt.Printf("%d checkpoints on a member alone (its own store), open + create section + overwrite each, all held open:\n", *scaleAlone)
	fmt.Printf("  %s per checkpoint; first tenth %s, last tenth %s each\n", stats.Round(per), stats.Round(first), stats.Round(last))
	fmt.Printf("  RSS %s (%d B per open checkpoint)\n", stats.MiB(r1), (r1-r0)/int64(*scaleAlone))
	stats.Verdict(float64(last)/float64(first), 1.5, false)
	fmt.Printf("  RSS <= 1 GiB: %s\n", stats.Met(r1 <= 1<<30))
}

func rss() int64 {
	n, err := stats.RSS()
	must(err)
	return n
}

// openMany opens n checkpoints, each with one 256 B section overwritten once, and keeps them
// open; it returns the mean time per checkpoint, of the first tenth and of the last tenth, and
// prints the mean of every tenth.
func openMany(m *replication.Member, prefix string, n int, flags ckpt.CreationFlags, nodes ...*node) (all, first, last time.Duration) {
	attrs := &ckpt.Attributes{Flags: flags, MaxSections: 2, MaxSectionIDSize: 8}
	data := make([]byte, 256)
	tenth := max(n/10, 1)
	start := time.Now()
	t0 := start
	var tenths []string
	cpuAt := func() []time.Duration { // CPU time used so far by this process and the nodes
		c := []time.Duration{cpuTime(os.Getpid())}
		for _, nd := range nodes {
			c = append(c, cpuTime(nd.cmd.Process.Pid))
		}
		return c
	}
	cpu0 := cpuAt()
	cpus := make([][]string, len(cpu0))
	for i := 0; i < n; i++ {
		if *scaleProf != "" && (i == 0 || i == n-tenth) {
			f, err := os.Create(fmt.Sprintf("%s.%s.%d", *scaleProf, prefix, i))
			must(err)
			must(pprof.StartCPUProfile(f))
			defer f.Close()
		}
		h, err := m.Open(ctx, fmt.Sprintf("%s-%06d", prefix, i), attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		must(err)
		_, err = h.CreateSection(ctx, []byte("s"), ckpt.Never, data)
		must(err)
		must(h.Overwrite(ctx, []byte("s"), data))
		if *scaleProf != "" && (i == tenth-1 || i == n-1) {
			pprof.StopCPUProfile()
		}
		if (i+1)%tenth == 0 {
			each := time.Since(t0) / time.Duration(tenth)
			if first == 0 {
				first = each
			}
			last = each
			tenths = append(tenths, stats.Round(each).String())
			t0 = time.Now()
			cpu1 := cpuAt()
			for j := range cpu1 {
				cpus[j] = append(cpus[j], stats.Round((cpu1[j]-cpu0[j])/time.Duration(tenth)).String())
			}
			cpu0 = cpu1
		}
	}
	fmt.Printf("  each tenth in order: %s\n", strings.Join(tenths, " "))
	for j, c := range cpus {
		who := "this process"
		if j > 0 {
			who = nodes[j-1].name
		}
		fmt.Printf("  CPU per checkpoint of %s, each tenth: %s\n", who, strings.Join(c, " "))
	}
	return time.Since(start) / time.Duration(n), first, last
}

// cpuTime is the user and system CPU time a process has used (/proc/<pid>/stat), 0 if unknown.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)        // utime, field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)       // stime, field 15
	return time.Duration(u+st) * time.Second / 100 // clock ticks (USER_HZ 100)
}
