package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/replication/directory"
)

// hostCutLease is the lease of every member in the host-cut measurement: its goal.
const hostCutLease = time.Second

// hostCut: the active's whole host is cut off the network, not only its process killed. Two
// clckpt serve members run in network namespaces of their own, joined to the root namespace by a
// bridge; the NATS server (clckpt serve --member=false) and this process (the writer, placement
// (b)) are in the root namespace. During WR_ALL_REPLICAS writes the active's link to the bridge goes
// down: its process lives on, but no packet reaches it. The time from the cut to the return of the
// first write started after it is measured; every acknowledged write must be there; then the link comes back, the
// cut member catches up, and the next round begins. Needs root and the ip command (iproute2).
func hostCut() {
	if os.Geteuid() != 0 {
		fmt.Println("host cut: not run: network namespaces need root")
		return
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Println("host cut: not run: the ip command (iproute2) is missing")
		return
	}
	tag := fmt.Sprintf("cb%d", os.Getpid()%100000)
	prefix := fmt.Sprintf("10.78.%d", os.Getpid()%200+20)
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			failf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("ip", "link", "add", tag+"br", "type", "bridge").CombinedOutput(); err != nil {
		fmt.Printf("host cut: not run: cannot create a bridge: %v: %s\n", err, out)
		return
	}
	ns := func(i int) string { return fmt.Sprintf("%s-%d", tag, i) }
	hostLink := func(i int) string { return fmt.Sprintf("%sh%d", tag, i) }
	cleanup := func() {
		for i := 1; i <= 2; i++ {
			_ = exec.Command("ip", "netns", "del", ns(i)).Run()
		}
		_ = exec.Command("ip", "link", "del", tag+"br").Run()
	}
	atExit = append(atExit, cleanup)
	defer func() { atExit = atExit[:len(atExit)-1]; cleanup() }()
	ip("addr", "add", prefix+".254/24", "dev", tag+"br")
	ip("link", "set", tag+"br", "up")
	for i := 1; i <= 2; i++ {
		inner := fmt.Sprintf("%sn%d", tag, i)
		ip("netns", "add", ns(i))
		ip("link", "add", hostLink(i), "type", "veth", "peer", "name", inner)
		ip("link", "set", inner, "netns", ns(i))
		ip("link", "set", hostLink(i), "master", tag+"br", "up")
		ip("-n", ns(i), "addr", "add", fmt.Sprintf("%s.%d/24", prefix, i), "dev", inner)
		ip("-n", ns(i), "link", "set", inner, "up")
		ip("-n", ns(i), "link", "set", "lo", "up")
	}
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	port := freePort()
	url := fmt.Sprintf("nats://%s.254:%d", prefix, port)
	lease := "CLCKPT_LEASE=" + hostCutLease.String()
	server := startProc("nats", []string{"CLCKPT_DATA_DIR=" + filepath.Join(dir, "nats"), lease}, *clckpt, "serve", "--node", "nats",
		"--host", prefix+".254", "--port", strconv.Itoa(port), "--member=false", "--no-auth")
	defer server.stop()
	natsToken, natsCert = "", filepath.Join(dir, "nats", "nats.pem")
	if _, err := os.Stat(natsCert); err != nil {
		natsCert = ""
	}
	nodes := map[string]*node{}
	env := []string{lease, "CLCKPT_REPLICAS=2", "CLCKPT_NATS_TLS_CA=" + natsCert}
	for i := 1; i <= 2; i++ {
		name := "s" + strconv.Itoa(i)
		nodes[name] = startProc(name, append(env, "CLCKPT_DATA_DIR="+filepath.Join(dir, name)),
			"ip", "netns", "exec", ns(i), *clckpt, "serve", "--node", name, "--nats-url", url)
	}
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	memberLease = hostCutLease
	w := member(filepath.Join(dir, "w"), "w", directory.KindApplication, freePort(), url)
	memberLease = 0
	defer w.Close()
	const sections = 16
	attrs := &ckpt.Attributes{Flags: ckpt.WriteAllReplicas, Retention: ckpt.RetainForever, MaxSections: sections, MaxSectionIDSize: 8}
	var h ckpt.Checkpoint
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("cut-%d", i)
		var err error
		h, err = w.Open(ctx, name, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		must(err)
		if len(entry(w, name).Replicas) == 2 {
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
	seq, lost := 0, 0
	for round := 0; round < *hostCuts; round++ {
		var e *directory.Entry
		waitFor(func() bool { e = entry(w, name); return e.IsSynced("s1") && e.IsSynced("s2") })
		victim := e.Active
		vi, _ := strconv.Atoi(strings.TrimPrefix(victim, "s"))
		var cutAt atomic.Int64
		start := time.Now()
		go func() {
			time.Sleep(50 * time.Millisecond)
			ip("link", "set", hostLink(vi), "down")
			cutAt.Store(int64(time.Since(start)))
		}()
		// A write that started after the cut can only return from the new active; a write in
		// flight at the cut delays it.
		var first time.Duration
		after := 0
		for after < 100 {
			seq++
			i := seq % sections
			cut := cutAt.Load() != 0
			if err := h.Overwrite(ctx, ids[i], []byte(strconv.Itoa(seq))); err != nil {
				failf("host cut round %d: a write failed: %v", round, err)
			}
			acked[i] = seq
			if cut {
				if after == 0 {
					first = time.Since(start) - time.Duration(cutAt.Load())
				}
				after++
			}
		}
		times.Add(first)
		lost += checkAcked(h, ids, acked, round)
		ip("link", "set", hostLink(vi), "up")
	}
	fmt.Printf("host cut: the active's network namespace cut off the bridge during WR_ALL_REPLICAS writes, to the return of the first write started after the cut, lease %s, %d rounds:\n", hostCutLease, *hostCuts)
	fmt.Printf("  p50 %s  p99 %s  max %s; acknowledged writes lost: %d\n", stats.Round(times.Percentile(50)),
		stats.Round(times.Percentile(99)), stats.Round(times.Percentile(100)), lost)
	stats.Within("p99", times.Percentile(99), hostCutLease)
	fmt.Printf("  no acknowledged write lost: %s\n", stats.Met(lost == 0))
}
