// Command replication measures the replicated service beside Redis (a master and one replica, both
// with appendonly yes), in the same run, rounds alternating between the two: writes and reads in
// both placements programs meet, with equal durability, throughput with many writers, the failover
// tail, scale, and the catch-up rate. bench/replication/run.sh starts Redis and runs this program.
//
// Placements. (a) the writer's member holds the active replica: a WR_ALL_REPLICAS checkpoint whose
// active the name placed on this process's member (a server member; the other replica on a
// `clckpt serve` process), and a collocated asynchronous checkpoint after ActiveReplicaSet with a
// standby process holding the other replica (the hot-standby pattern). (b) the writer's member (an
// application member) holds no replica: both are on two `clckpt serve` processes and every call is
// forwarded to the active. Redis: this process is the client, master and replica are two processes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
)

var (
	redisAddr   = flag.String("redis", "127.0.0.1:6379", "Redis master (with one replica attached)")
	redisRepl   = flag.String("redis-replica", "", "the Redis replica (its appendfsync is set with the master's)")
	redisBench  = flag.String("redis-benchmark", "redis-benchmark", "the redis-benchmark command")
	clckpt      = flag.String("clckpt", "build/bin/clckpt", "the clckpt command")
	ops         = flag.Int("ops", 5000, "calls per measurement and round")
	rounds      = flag.Int("rounds", 4, "alternating rounds")
	syncOps     = flag.Int("sync-ops", 500, "calls per round with fsync on both sides")
	tputTime    = flag.Duration("throughput-time", 2*time.Second, "duration of one throughput run")
	failovers   = flag.Int("failovers", 50, "failovers to time")
	hostCuts    = flag.Int("hostcuts", 5, "host cuts to time")
	scaleN      = flag.Int("scale", 10000, "checkpoints opened and written with server members")
	scaleProf   = flag.String("scale-cpuprofile", "", "write CPU profiles of the first and last tenth of each scale run to files with this prefix")
	scaleAlone  = flag.Int("scale-alone", 100000, "checkpoints opened and written on a member alone (RSS)")
	bulkMiB     = flag.Int("catchup-mib", 256, "MiB a restarted replica catches up on")
	catchUps    = flag.Int("catchups", 3, "catch-ups to time")
	cpuProf     = flag.String("cpuprofile", "", "write a CPU profile of the catch-up (sending side) here")
	only        = flag.String("only", "", "comma-separated parts to run (writes,saf-writes,durability,throughput,failover,hostcut,scale,catchup); default all")
	standbyName = flag.String("standby", "", "internal: run as the standby member holding a replica of this collocated checkpoint")
)

var ctx = context.Background()

func main() {
	flag.Parse()
	if *standbyName != "" {
		standby(*standbyName)
		return
	}
	parts := map[string]func(){"writes": writesAndReads, "saf-writes": safWrites, "durability": durability,
		"throughput": throughput, "failover": failover, "hostcut": hostCut, "scale": scale, "catchup": catchUp}
	order := []string{"writes", "saf-writes", "durability", "throughput", "failover", "hostcut", "scale", "catchup"}
	if *only != "" {
		order = strings.Split(*only, ",")
	}
	for _, p := range order {
		f, ok := parts[p]
		if !ok {
			failf("no part %q", p)
		}
		fmt.Printf("=== %s\n", p)
		f()
		fmt.Println()
	}
}

// placementA: this process's member a (a server member hosting the embedded NATS server) holds
// the active replica; node b (clckpt serve) and a standby process hold the other replicas.
type placementA struct {
	dir     string
	a       *replication.Member
	b       *node
	sb      *exec.Cmd
	sbIn    io.WriteCloser
	all     ckpt.Checkpoint // WR_ALL_REPLICAS, active on a, other replica on b
	hot     ckpt.Checkpoint // collocated WR_ACTIVE_REPLICA after ActiveReplicaSet, standby replica
	section []byte
}

func newPlacementA() *placementA {
	p := &placementA{section: []byte("s")}
	p.dir, _ = os.MkdirTemp("", "clckpt-bench-")
	port := freePort()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p.a = member(filepath.Join(p.dir, "a"), "a", directory.KindServer, port, "")
	p.b = startNode("b", filepath.Join(p.dir, "b"), url)
	// The name decides the active of a WR_ALL_REPLICAS checkpoint (placement by hash over the
	// servers): names are tried until this member is the active. This is placement (a) on purpose.
	p.all = openActiveHere(p.a, "all", ckpt.WriteAllReplicas, 2)
	attrs := &ckpt.Attributes{Flags: ckpt.Collocated | ckpt.WriteActiveReplica, MaxSections: 16, MaxSectionIDSize: 16}
	h, err := p.a.Open(ctx, "hot", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	must(err)
	must(h.SetActiveReplica(ctx))
	_, err = h.CreateSection(ctx, p.section, ckpt.Never, []byte("x"))
	must(err)
	p.hot = h
	// The standby: another process that opens the checkpoint, so its member holds a replica.
	p.sb = exec.Command(os.Args[0], "-standby", "hot")
	p.sb.Env = append(os.Environ(), "CLCKPT_NODE=standby", "CLCKPT_DATA_DIR="+filepath.Join(p.dir, "standby"),
		"CLCKPT_NATS_URL="+url, "CLCKPT_NATS_TOKEN="+natsToken, "CLCKPT_NATS_TLS_CA="+natsCert,
		"CLCKPT_REPLICAS=2", "CLCKPT_SYNC_WRITES="+syncEnv())
	p.sbIn, err = p.sb.StdinPipe()
	must(err)
	out, err := p.sb.StdoutPipe()
	must(err)
	p.sb.Stderr = os.Stderr
	p.sb.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(p.sb.Start())
	line := make([]byte, 6)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
		failf("the standby did not start: %q %v", line, err)
	}
	waitFor(func() bool { e := entry(p.a, "hot"); return e.HasReplica("standby") && e.IsSynced("standby") })
	return p
}

func (p *placementA) close() {
	_ = p.sbIn.Close()
	_ = p.sb.Wait()
	_ = p.all.Close()
	_ = p.hot.Close()
	p.b.stop()
	_ = p.a.Close()
	_ = os.RemoveAll(p.dir)
}

// standby runs in a process of its own: it opens the collocated checkpoint (its member takes a
// replica) and holds it until its input closes.
func standby(name string) {
	c, err := config.FromEnv()
	must(err)
	c.LogLevel = slog.LevelError
	m, err := replication.Join(ctx, replication.Options{Config: c, Kind: directory.KindApplication, Logger: c.Logger("standby")})
	must(err)
	h, err := m.Open(ctx, name, nil, ckpt.OpenRead|ckpt.OpenWrite)
	must(err)
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = h.Close()
	_ = m.Close()
}

// placementB: this process's member w (an application member hosting the embedded NATS server)
// holds no replica; s1 and s2 (clckpt serve) hold them and w's calls are forwarded to the active.
type placementB struct {
	dir        string
	w          *replication.Member
	s1, s2     *node
	all, async ckpt.Checkpoint
	allName    string
	section    []byte
}

func newPlacementB() *placementB {
	p := &placementB{section: []byte("s")}
	p.dir, _ = os.MkdirTemp("", "clckpt-bench-")
	port := freePort()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	p.w = member(filepath.Join(p.dir, "w"), "w", directory.KindApplication, port, "")
	p.s1 = startNode("s1", filepath.Join(p.dir, "s1"), url)
	p.s2 = startNode("s2", filepath.Join(p.dir, "s2"), url)
	p.all, p.allName = p.open("all", ckpt.WriteAllReplicas)
	p.async, _ = p.open("async", ckpt.WriteActiveReplica)
	return p
}

// open creates a checkpoint with one section once both servers are seen: its replicas on s1 and s2.
func (p *placementB) open(name string, flags ckpt.CreationFlags) (ckpt.Checkpoint, string) {
	attrs := &ckpt.Attributes{Flags: flags, MaxSections: 8, MaxSectionIDSize: 16}
	for i := 0; ; i++ {
		n := fmt.Sprintf("%s-%d", name, i)
		h, err := p.w.Open(ctx, n, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		must(err)
		if e := entry(p.w, n); len(e.Replicas) == 2 && !e.HasReplica("w") {
			_, err = h.CreateSection(ctx, p.section, ckpt.Never, []byte("x"))
			must(err)
			return h, n
		}
		_ = h.Close() // created before the second server's lease was seen: try again
		time.Sleep(50 * time.Millisecond)
	}
}

// active is the member holding the active replica of p.all.
func (p *placementB) active() string { return entry(p.w, p.allName).Active }

func (p *placementB) close() {
	_ = p.all.Close()
	_ = p.async.Close()
	p.s1.stop()
	p.s2.stop()
	_ = p.w.Close()
	_ = os.RemoveAll(p.dir)
}

func waitFor(cond func() bool) {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			fail("a condition was not reached in 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alternate runs each of fns n calls per round, rounds times, in turn.
func alternate(rounds, n int, fns ...func()) {
	for r := 0; r < rounds; r++ {
		for _, f := range fns {
			for i := 0; i < n; i++ {
				f()
			}
		}
	}
}

// writesAndReads: 256 B writes and 4 KiB reads in both placements beside Redis with appendonly yes,
// appendfsync no (its log written, not synced, as ours).
func writesAndReads() {
	r := dialRedis(*redisAddr)
	defer r.Close()
	setFsync(r, "no")
	data := make([]byte, 256)
	page := make([]byte, 4096)
	buf := make([]byte, 4096)
	fmt.Printf("256 B writes, 4 KiB reads; %d calls x %d rounds per cell, rounds alternate ours / Redis\n", *ops, *rounds)
	fmt.Printf("Redis: master + 1 replica, appendonly yes, appendfsync no; ours: log written, not synced\n\n")

	a := newPlacementA()
	b := newPlacementB()
	rid := []byte("r")
	for _, h := range []ckpt.Checkpoint{a.all, b.all} {
		_, err := h.CreateSection(ctx, rid, ckpt.Never, page)
		must(err)
	}
	r.setPage(page)
	var allA, allB, setWait, asyncA, asyncB, set, readA, readB, get, floor stats.Samples
	el := func(h ckpt.Checkpoint) func() {
		e := []ckpt.ReadElement{{SectionID: rid, Buffer: buf}}
		return func() { e[0].Buffer = buf; must(h.Read(ctx, e)) }
	}
	ra, rb := el(a.all), el(b.all)
	active := b.active()
	alternate(*rounds, *ops,
		func() { allA.Time(func() { must(a.all.Overwrite(ctx, a.section, data)) }) },
		func() { setWait.Time(func() { r.setWait(data) }) },
		func() { allB.Time(func() { must(b.all.Overwrite(ctx, b.section, data)) }) },
		func() { asyncA.Time(func() { must(a.hot.Overwrite(ctx, a.section, data)) }) },
		func() { set.Time(func() { r.set(data) }) },
		func() { asyncB.Time(func() { must(b.async.Overwrite(ctx, b.section, data)) }) },
		func() { readA.Time(ra) },
		func() { get.Time(func() { r.get(buf) }) },
		func() { readB.Time(rb) },
		func() { floor.Time(func() { must(b.w.Probe(ctx, active)) }) },
	)
	stats.Line("WR_ALL_REPLICAS overwrite, placement (a) vs Redis SET + WAIT 1", &allA, &setWait, 0.3)
	stats.Line("WR_ALL_REPLICAS overwrite, placement (b) vs Redis SET + WAIT 1", &allB, &setWait, 1.0)
	stats.Line("asynchronous overwrite, placement (a) (collocated, ActiveReplicaSet) vs Redis SET", &asyncA, &set, 0.1)
	stats.Line("asynchronous overwrite, placement (b) vs Redis SET", &asyncB, &set, 1.0)
	stats.Line("4 KiB read, placement (a) vs Redis GET", &readA, &get, 0.1)
	stats.Line("4 KiB read, placement (b) vs Redis GET", &readB, &get, 0.1)
	fmt.Printf("a bare NATS request and reply from the writer to the active of (b) (a position query that does no work: the floor of a forwarded call)\n  ours  %s\n", floor.Summary())
	onLinks, onNATS := a.a.OpsSent()
	fmt.Printf("  (a) ops sent by the active: %d on direct links, %d through NATS\n", onLinks, onNATS)
	onLinks, onNATS = b.w.CallsSent()
	fmt.Printf("  (b) calls forwarded by the writer: %d on call links, %d through NATS\n", onLinks, onNATS)
	a.close()
	b.close()
}

// durability: the writes of placement (a) with fsync on both sides: CLCKPT_SYNC_WRITES=1 on every
// member, Redis appendfsync always on master and replica.
func durability() {
	r := dialRedis(*redisAddr)
	defer r.Close()
	setFsync(r, "always")
	defer setFsync(r, "no")
	syncWrites = true
	defer func() { syncWrites = false }()
	fmt.Printf("256 B writes with every write fsynced: CLCKPT_SYNC_WRITES=1 / Redis appendfsync always; %d calls x %d rounds\n\n", *syncOps, *rounds)
	a := newPlacementA()
	defer a.close()
	data := make([]byte, 256)
	var all, setWait, async, set stats.Samples
	alternate(*rounds, *syncOps,
		func() { all.Time(func() { must(a.all.Overwrite(ctx, a.section, data)) }) },
		func() { setWait.Time(func() { r.setWait(data) }) },
		func() { async.Time(func() { must(a.hot.Overwrite(ctx, a.section, data)) }) },
		func() { set.Time(func() { r.set(data) }) },
	)
	stats.Line("WR_ALL_REPLICAS overwrite, placement (a), fsync vs Redis SET + WAIT 1, appendfsync always", &all, &setWait, 0.3)
	stats.Line("asynchronous overwrite, placement (a), fsync vs Redis SET, appendfsync always", &async, &set, 0.1)
}

// setFsync sets appendfsync on the Redis master and its replica.
func setFsync(r *redis, mode string) {
	if got := r.do("CONFIG", "SET", "appendfsync", mode); got != "+OK" {
		failf("redis: CONFIG SET appendfsync %s: %s", mode, got)
	}
	if *redisRepl != "" {
		rr := dialRedis(*redisRepl)
		defer rr.Close()
		if got := rr.do("CONFIG", "SET", "appendfsync", mode); got != "+OK" {
			failf("redis replica: CONFIG SET appendfsync %s: %s", mode, got)
		}
	}
}
