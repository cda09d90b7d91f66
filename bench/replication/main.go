// Command replication measures replicated writes against Redis with one replica, in the same run, and
// the failover time and catch-up rate of the checkpoint service. bench/replication/run.sh starts the
// Redis master and replica (Debian's redis-server, on loopback) and runs this program.
//
// Topology of the write benchmarks: this process is the application; its member hosts the embedded NATS
// server and the active replica, and a second member, holding the other replica, is a separate
// process (clckpt serve). Redis: this process is the client, the master and its replica are two
// processes. A write is timed from the call to its return.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

var (
	redisAddr = flag.String("redis", "127.0.0.1:6379", "Redis master (with one replica attached)")
	clckpt    = flag.String("clckpt", "build/bin/clckpt", "the clckpt command")
	ops       = flag.Int("ops", 20000, "writes per measurement")
	rounds    = flag.Int("rounds", 5, "alternating rounds")
	failovers = flag.Int("failovers", 5, "failovers to time")
	bulkMiB   = flag.Int("catchup-mib", 256, "MiB a restarted replica catches up on")
	catchUps  = flag.Int("catchups", 5, "catch-ups to time")
	cpuProf   = flag.String("cpuprofile", "", "write a CPU profile of the catch-up (sending side) here")
)

var ctx = context.Background()

func main() {
	flag.Parse()
	fmt.Printf("replicated writes vs Redis 1 master + 1 replica, %d writes x %d rounds per cell, 256 B\n\n", *ops, *rounds)
	writes()
	failover()
	catchUp()
}

// natsToken is the token of the embedded server this process hosts, natsCert the file of its
// certificate (the nodes pin it).
var natsToken, natsCert string

// node is a member process (clckpt serve --nats-url).
type node struct {
	name string
	cmd  *exec.Cmd
}

func startNode(name, dir, url string) *node {
	args := []string{"serve", "--node", name, "--nats-url", url}
	if p := os.Getenv("BENCH_NODE_PROFILE"); p != "" {
		args = append(args, "--cpuprofile", p+"."+name)
	}
	cmd := exec.Command(*clckpt, args...)
	level := "error"
	if os.Getenv("CLCKPT_LOG_LEVEL") != "" {
		level = "info"
	}
	cmd.Env = append(os.Environ(), "CLCKPT_DATA_DIR="+dir, "CLCKPT_REPLICAS=2", "CLCKPT_LOG_LEVEL="+level,
		"CLCKPT_NATS_TOKEN="+natsToken, "CLCKPT_NATS_TLS_CA="+natsCert)
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			go func() {
				for sc.Scan() {
				}
			}()
			return &node{name: name, cmd: cmd}
		}
	}
	log.Fatalf("%s did not start", name)
	return nil
}

// rssAnon is the node's anonymous resident memory (heap, stacks) in bytes, 0 if unknown.
func (n *node) rssAnon() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (n *node) kill9() { _ = n.cmd.Process.Signal(syscall.SIGKILL); _ = n.cmd.Wait() }
func (n *node) stop()  { _ = n.cmd.Process.Signal(syscall.SIGTERM); _ = n.cmd.Wait() }

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// member joins this process to the service; with host it hosts the embedded NATS server.
func member(dir, name, kind string, port int, url string) *replication.Member {
	return memberLogging(dir, name, kind, port, url, nil)
}

// memberLogging is member whose log records also go to watch.
func memberLogging(dir, name, kind string, port int, url string, watch func(slog.Record)) *replication.Member {
	c := config.Default()
	c.Node, c.DataDir, c.Port, c.NATS.URL, c.Replicas = name, dir, port, url, 2
	c.LogLevel = slog.LevelError
	if os.Getenv("CLCKPT_LOG_LEVEL") != "" {
		c.LogLevel = slog.LevelInfo
	}
	logger := c.Logger("bench")
	if watch != nil {
		logger = slog.New(&watcher{Handler: logger.Handler(), watch: watch})
	}
	m, err := replication.Join(ctx, replication.Options{Config: c, Kind: kind, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	if url == "" { // this process hosts the embedded server: the nodes need its token
		if natsToken, err = natsconn.EmbeddedToken(dir); err != nil {
			log.Fatal(err)
		}
		if natsCert, err = natsconn.EmbeddedTLS(dir); err != nil {
			log.Fatal(err)
		}
	}
	return m
}

// watcher passes every Info record to watch, and the enabled ones on to Handler.
type watcher struct {
	slog.Handler
	watch func(slog.Record)
}

func (w *watcher) Enabled(context.Context, slog.Level) bool { return true }

func (w *watcher) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		w.watch(r)
	}
	if w.Handler.Enabled(ctx, r.Level) {
		return w.Handler.Handle(ctx, r)
	}
	return nil
}

func (w *watcher) WithAttrs(as []slog.Attr) slog.Handler {
	return &watcher{Handler: w.Handler.WithAttrs(as), watch: w.watch}
}

func (w *watcher) WithGroup(name string) slog.Handler {
	return &watcher{Handler: w.Handler.WithGroup(name), watch: w.watch}
}

// openActiveHere creates a checkpoint with flags whose active replica is m (placement is by hash:
// try names until one lands here) and one section.
func openActiveHere(m *replication.Member, prefix string, flags engine.CreationFlags, peers int) engine.Checkpoint {
	attrs := &engine.Attributes{Flags: flags, Retention: 0, MaxSections: 8, MaxSectionIDSize: 16}
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		h, err := m.Open(ctx, name, attrs, engine.OpenRead|engine.OpenWrite|engine.OpenCreate)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := h.CreateSection(ctx, []byte("s"), engine.Never, []byte("x")); err != nil {
			log.Fatal(err)
		}
		if e := entry(m, name); e.Active == m.Name() && len(e.Replicas) == peers {
			return h
		}
		_ = h.Close()
	}
}

func entry(m *replication.Member, name string) *directory.Entry {
	e, err := m.Entry(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	return e
}

func writes() {
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	port := freePort()
	a := member(filepath.Join(dir, "a"), "a", directory.KindServer, port, "")
	defer a.Close()
	b := startNode("b", filepath.Join(dir, "b"), fmt.Sprintf("nats://127.0.0.1:%d", port))
	defer b.stop()
	time.Sleep(200 * time.Millisecond) // b's lease reaches a: placement sees two servers
	sync := openActiveHere(a, "sync", engine.WriteAllReplicas, 2)
	async := openActiveHere(a, "async", engine.WriteActiveReplica, 2)

	r := dialRedis(*redisAddr)
	defer r.Close()
	data := make([]byte, 256)
	var ours, theirs, oursAsync, theirsSet, floor stats.Samples
	for round := 0; round < *rounds; round++ {
		for i := 0; i < *ops; i++ {
			floor.Time(func() { must(a.Probe(ctx, "b")) })
		}
		for i := 0; i < *ops; i++ {
			ours.Time(func() { must(sync.Overwrite(ctx, []byte("s"), data)) })
		}
		for i := 0; i < *ops; i++ {
			theirs.Time(func() { r.setWait(data) })
		}
		for i := 0; i < *ops; i++ {
			oursAsync.Time(func() { must(async.Overwrite(ctx, []byte("s"), data)) })
		}
		must(async.Synchronize(ctx))
		for i := 0; i < *ops; i++ {
			theirsSet.Time(func() { r.set(data) })
		}
	}
	fmt.Printf("NATS round trip to the other member     %s  (%s of Redis SET + WAIT)\n", floor.Summary(), stats.Ratio(floor.Percentile(50), theirs.Percentile(50)))
	fmt.Printf("WR_ALL_REPLICAS overwrite, 2 replicas   %s\n", ours.Summary())
	fmt.Printf("Redis SET + WAIT 1 (pipelined)          %s\n", theirs.Summary())
	fmt.Printf("  ratio p50 %s (goal <= 0.80x)\n", stats.Ratio(ours.Percentile(50), theirs.Percentile(50)))
	onLinks, onNATS := a.OpsSent()
	fmt.Printf("  ops sent to the other member: %d on the direct link, %d through NATS\n\n", onLinks, onNATS)
	fmt.Printf("async overwrite on the active member     %s\n", oursAsync.Summary())
	fmt.Printf("Redis SET                                %s\n", theirsSet.Summary())
	fmt.Printf("  ratio p50 %s (goal <= 0.25x)\n\n", stats.Ratio(oursAsync.Percentile(50), theirsSet.Percentile(50)))
}

// failover: two server members (processes) hold a WR_ALL_REPLICAS checkpoint written in a loop by
// this process; the active's process is killed with SIGKILL and the time to the first write that
// returns afterwards is measured; the killed node is restarted and the next round begins.
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
	time.Sleep(200 * time.Millisecond)
	attrs := &engine.Attributes{Flags: engine.WriteAllReplicas, Retention: engine.RetainForever, MaxSections: 2, MaxSectionIDSize: 8}
	h, err := app.Open(ctx, "failover", attrs, engine.OpenRead|engine.OpenWrite|engine.OpenCreate)
	must(err)
	_, err = h.CreateSection(ctx, []byte("s"), engine.Never, []byte("0"))
	must(err)
	var times stats.Samples
	for round := 0; round < *failovers; round++ {
		e := entry(app, "failover")
		for !e.IsSynced(other(e.Active)) { // both replicas in sync before the kill
			time.Sleep(10 * time.Millisecond)
			e = entry(app, "failover")
		}
		for i := 0; i < 200; i++ { // warm
			must(h.Overwrite(ctx, []byte("s"), []byte(strconv.Itoa(i))))
		}
		victim := e.Active
		killed := time.Now()
		nodes[victim].kill9()
		for {
			if err := h.Overwrite(ctx, []byte("s"), []byte("after")); err == nil {
				break
			}
		}
		times.Add(time.Since(killed))
		nodes[victim] = startNode(victim, filepath.Join(dir, victim), url)
	}
	fmt.Printf("failover, kill -9 of the active to the first write on the new active, %d rounds:\n", *failovers)
	fmt.Printf("  p50 %s  max %s (goal <= 1 s)\n\n", stats.Round(times.Percentile(50)), stats.Round(times.Percentile(100)))
}

func other(s string) string {
	if s == "s1" {
		return "s2"
	}
	return "s1"
}

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
	attrs := &engine.Attributes{Flags: engine.WriteActiveReplica, Retention: 0, MaxSections: uint32(n + 1), MaxSectionIDSize: 16}
	var h engine.Checkpoint
	var name string
	for i := 0; ; i++ {
		name = fmt.Sprintf("bulk-%d", i)
		var err error
		h, err = a.Open(ctx, name, attrs, engine.OpenRead|engine.OpenWrite|engine.OpenCreate)
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
				_, err = h.CreateSection(ctx, id, engine.Never, data)
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
		start := time.Now()
		b = startNode("b", filepath.Join(dir, "b"), url)
		for !entry(a, name).IsSynced("b") {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(start)
		times.Add(took)
		select {
		case d := <-copies:
			copyTimes.Add(d)
			each = append(each, fmt.Sprintf("%s (copy %s, follower's anonymous memory %d MiB)", stats.Round(took), stats.Round(d), b.rssAnon()>>20))
		case <-time.After(5 * time.Second):
			log.Fatal("the active logged no copy")
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
	for round := 0; round <= *catchUps; round++ {
		start := time.Now()
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
		}
	}
	bytes := float64(n * sectionSize)
	med := times.Percentile(50)
	fmt.Printf("  the store alone (Badger, 4 MiB batches over the previous copy): median %s: %.0f MB/s (best %.0f MB/s)\n",
		stats.Round(med), bytes/1e6/med.Seconds(), bytes/1e6/times.Percentile(1).Seconds())
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// redis is a minimal RESP client: enough for SET and WAIT.
type redis struct {
	c net.Conn
	r *bufio.Reader
}

func dialRedis(addr string) *redis {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatalf("redis: %v (bench/replication/run.sh starts a master and a replica)", err)
	}
	return &redis{c: c, r: bufio.NewReader(c)}
}

func (r *redis) Close() { r.c.Close() }

func cmd(buf []byte, args ...[]byte) []byte {
	buf = fmt.Appendf(buf, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n", len(a))
		buf = append(buf, a...)
		buf = append(buf, "\r\n"...)
	}
	return buf
}

var key = []byte("ckpt")

func (r *redis) set(v []byte) {
	r.send(cmd(nil, []byte("SET"), key, v))
	r.reply()
}

// setWait sends SET and WAIT 1 0 together and reads both replies: one round trip, then the replica.
func (r *redis) setWait(v []byte) {
	r.send(cmd(cmd(nil, []byte("SET"), key, v), []byte("WAIT"), []byte("1"), []byte("0")))
	r.reply()
	if n := r.reply(); n != ":1" {
		log.Fatalf("redis: WAIT answered %q: is the replica attached?", n)
	}
}

func (r *redis) send(b []byte) {
	if _, err := r.c.Write(b); err != nil {
		log.Fatal(err)
	}
}

func (r *redis) reply() string {
	line, err := r.r.ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		log.Fatal(errors.New("redis: " + line))
	}
	return line
}
