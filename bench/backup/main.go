// Command backup measures backups and restores of one checkpoint (by default 16,384 sections of 64
// KiB: 1 GiB) into a directory archive and into a JetStream object store, beside what bounds them
// in the same run: the store's own sequential read of the same sections, a bare file write (with
// fsync) and a bare object-store put and get of the same bytes. It also times a concurrent
// writer's 4 KiB writes into the checkpoint during a backup and without one. Run it with `make
// bench`; BENCHMARKS.md explains the method and records results.
//
// Each measurement is made in several rounds, each bound next to what it bounds (in an order
// that alternates from round to round), the disk's dirty pages written out before each step; the
// figures reported are the medians over the rounds, and the ratios the medians of each round's
// ratio. The NATS server is a process of its own, as it is in a deployment.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sys/unix"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

var (
	sections    = flag.Int("sections", 16384, "sections of the checkpoint backed up")
	sectionSize = flag.Int("section-size", 64<<10, "bytes of each section")
	writeEvery  = flag.Duration("write-every", 2*time.Millisecond, "pace of the concurrent writer")
	rounds      = flag.Int("rounds", 5, "rounds of the backup measurements (restores: at most 3)")
	cpuProf     = flag.String("cpuprofile", "", "write CPU profiles of the first round's backups to FILE.directory and FILE.objectstore")
	traceFile   = flag.String("trace", "", "write execution traces of the first round's backups to FILE.directory and FILE.objectstore")
	dirFlag     = flag.String("dir", "", "where the store, the archive and the NATS server's files go (default: a temporary directory)")
)

// serverEnv, when set, makes the program the NATS server of the benchmark, storing under its
// value: it prints its client URL and runs until its standard input closes.
const serverEnv = "CLCKPT_BENCH_BACKUP_NATS"

var ctx = context.Background()

// cleanup removes the temporary directory and stops the server, also when must ends the program.
var cleanup = func() {}

func must(err error) {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		cleanup()
		log.Fatalf("%s:%d: %v", filepath.Base(file), line, err)
	}
}

// stalls counts the object-store puts that failed because the server fell behind: it acknowledged
// too slowly (the client gives up when 4,000 chunks wait for 200 ms), or answered "too many
// requests" (429); they are retried and reported.
var stalls = map[string]int{}

func stalled(err error) bool {
	var api *jetstream.APIError
	if errors.Is(err, jetstream.ErrTooManyStalledMsgs) || errors.As(err, &api) && api.Code == 429 {
		_, file, line, _ := runtime.Caller(1)
		stalls[fmt.Sprintf("%s:%d", filepath.Base(file), line)]++
		log.Printf("object-store put stalled, retrying: %v", err)
		return true
	}
	return false
}

func secID(i int) []byte { return fmt.Appendf(nil, "s%06d", i) }

func mbs(bytes int64, d time.Duration) float64 { return float64(bytes) / d.Seconds() / 1e6 }

// content is the data of section i: incompressible, different in every section.
func content(i, size int) []byte {
	var seed [32]byte
	seed[0], seed[1], seed[2] = byte(i), byte(i>>8), byte(i>>16)
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

// pool holds the contents of the first sections, generated once: the bare writes stream them
// over and over, so that generating data costs them nothing (the bytes stay incompressible).
var pool [][]byte

// allContent streams as many bytes as the checkpoint holds, section after section (from pool).
type allContent struct{ i, off int }

func (a *allContent) Read(p []byte) (int, error) {
	if a.i >= *sections {
		return 0, io.EOF
	}
	cur := pool[a.i%len(pool)]
	n := copy(p, cur[a.off:])
	if a.off += n; a.off == len(cur) {
		a.i, a.off = a.i+1, 0
	}
	return n, nil
}

// runServer is the NATS server process.
func runServer(dir string) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir,
		NoSigs: true, JetStreamMaxStore: 64 << 30})
	if err != nil {
		log.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		log.Fatal("nats server not ready")
	}
	signal.Ignore(os.Interrupt)
	fmt.Println(ns.ClientURL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ns.Shutdown()
	ns.WaitForShutdown()
}

// startServer starts the NATS server process and returns its client URL and its process id.
func startServer(dir string) (string, int, func()) {
	self, err := os.Executable()
	must(err)
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serverEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	must(err)
	out, err := cmd.StdoutPipe()
	must(err)
	must(cmd.Start())
	url, err := bufio.NewReader(out).ReadString('\n')
	must(err)
	return strings.TrimSpace(url), cmd.Process.Pid, func() { _ = in.Close(); _ = cmd.Wait() }
}

// cpu is what the machine's processors did, in clock ticks (/proc/stat), and what this program
// and its server used (/proc/<pid>/stat).
type cpu struct{ busy, steal, ours int64 }

var serverPid int

func procTicks(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command's name (which ends with the last ')'): utime and stime are the
	// 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func readCPU() cpu {
	var c cpu
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			switch i {
			case 3, 4: // idle, iowait
			case 7:
				c.steal = n
				c.busy += n
			default:
				if i < 8 { // guest time is counted in user time already
					c.busy += n
				}
			}
		}
	}
	c.ours = procTicks("self")
	if serverPid != 0 {
		c.ours += procTicks(strconv.Itoa(serverPid))
	}
	return c
}

// othersLoad is how many processors, on average, the rest of the machine kept busy between a and
// b (stolen time included), over d.
func othersLoad(a, b cpu, d time.Duration) float64 {
	const hz = 100 // USER_HZ
	return float64((b.busy-a.busy)-(b.ours-a.ours)) / hz / d.Seconds()
}

// result is one timed step of one round.
type result struct {
	d      time.Duration
	others float64 // processors the rest of the machine kept busy meanwhile
	// runDelay is how long this program's threads waited, summed, for a processor (the kernel's
	// run queue: /proc/self/task/*/schedstat) per second of the step; goWait the 99th
	// percentile of the time its goroutines waited to run once ready (the Go scheduler's
	// /sched/latencies:seconds, which includes the waits of its threads for a processor).
	runDelay float64
	goWait   time.Duration
}

// runDelays is how long each thread of this program has waited for a processor, in nanoseconds.
func runDelays() map[string]int64 {
	out := map[string]int64{}
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 1 {
			out[t.Name()], _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return out
}

// runDelaySince sums the waits for a processor of this program's threads since a (threads started
// since count whole, threads ended since are lost).
func runDelaySince(a map[string]int64) int64 {
	var sum int64
	for t, n := range runDelays() {
		sum += n - a[t]
	}
	return sum
}

// schedLatencies reads the Go scheduler's histogram of the time goroutines waited to run.
func schedLatencies() *metrics.Float64Histogram {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	return m[0].Value.Float64Histogram()
}

// p99Between is the 99th percentile of the waits recorded between two readings of the histogram.
func p99Between(a, b *metrics.Float64Histogram) time.Duration {
	var total uint64
	for i := range b.Counts {
		total += b.Counts[i] - a.Counts[i]
	}
	var seen uint64
	for i := range b.Counts {
		if seen += b.Counts[i] - a.Counts[i]; total > 0 && float64(seen) >= 0.99*float64(total) {
			return time.Duration(b.Buckets[i+1] * 1e9)
		}
	}
	return 0
}

// table collects the results of every round.
type table struct {
	names []string
	res   map[string][]result
}

func (t *table) add(name string, r result) {
	if t.res == nil {
		t.res = map[string][]result{}
	}
	if _, ok := t.res[name]; !ok {
		t.names = append(t.names, name)
	}
	t.res[name] = append(t.res[name], r)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// rates returns the MB/s of each round of a step.
func (t *table) rates(name string, total int64) []float64 {
	var out []float64
	for _, r := range t.res[name] {
		out = append(out, mbs(total, r.d))
	}
	return out
}

func main() {
	if dir := os.Getenv(serverEnv); dir != "" {
		runServer(dir)
		return
	}
	flag.Parse()
	root := *dirFlag
	if root == "" {
		var err error
		root, err = os.MkdirTemp("", "clckpt-bench-backup-")
		must(err)
		cleanup = func() { _ = os.RemoveAll(root) }
	}
	total := int64(*sections) * int64(*sectionSize)
	for i := range min(64, *sections) {
		pool = append(pool, content(i, *sectionSize))
	}
	fmt.Printf("backup and restore of %d sections x %d B (%d MiB), %d rounds, GOMAXPROCS=%d, %s, %d processors\n\n", *sections, *sectionSize,
		total>>20, *rounds, runtime.GOMAXPROCS(0), runtime.Version(), runtime.NumCPU())

	url, pid, stopServer := startServer(filepath.Join(root, "nats"))
	serverPid = pid
	removeRoot := cleanup
	cleanup = func() { stopServer(); removeRoot() }
	defer cleanup()
	nc, err := nats.Connect(url)
	must(err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	must(err)

	l, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(root, "store")})
	must(err)
	defer l.Close()
	attrs := ckpt.Attributes{Flags: ckpt.WriteAllReplicas, Retention: ckpt.RetainForever, MaxSections: uint32(*sections) + 1,
		MaxSectionSize: uint64(*sectionSize), MaxSectionIDSize: 16}
	ck, err := l.Open(ctx, "bench", &attrs, ckpt.OpenCreate|ckpt.OpenRead|ckpt.OpenWrite)
	must(err)
	defer ck.Close()
	start := time.Now()
	for i := range *sections {
		_, err := ck.CreateSection(ctx, secID(i), ckpt.Never, content(i, *sectionSize))
		must(err)
	}
	fmt.Printf("filled in %s\n", stats.Round(time.Since(start)))

	dir, err := archive.OpenDir(filepath.Join(root, "archive"))
	must(err)
	obs, err := archive.OpenObjectStore(ctx, js, "bench", 1)
	must(err)
	bare, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "bare", Storage: jetstream.FileStorage})
	must(err)

	var tab table
	// timed runs one step: the dirty pages of the steps before are written out first, so that
	// none pays for another's writes.
	timed := func(name string, f func()) time.Duration {
		unix.Sync()
		a, rd, gw, start := readCPU(), runDelays(), schedLatencies(), time.Now()
		f()
		d := time.Since(start)
		tab.add(name, result{d: d, others: othersLoad(a, readCPU(), d), runDelay: float64(runDelaySince(rd)) / float64(d),
			goWait: p99Between(gw, schedLatencies())})
		return d
	}

	seqRead := func() {
		buf := make([]byte, *sectionSize)
		for i := range *sections {
			must(ck.Read(ctx, []ckpt.ReadElement{{SectionID: secID(i), Buffer: buf}}))
		}
	}
	seqWrite := func() {
		for i := range *sections {
			must(ck.Overwrite(ctx, secID(i), content(i, *sectionSize)))
		}
	}
	// What the backup does besides writing the archive: the engine's cut alone (every section
	// handed over, then dropped), and SHA-256 over the bytes (the format hashes each byte once, in
	// its chunk's digest).
	cutAlone := func() {
		must(l.SnapshotCheckpoint(ctx, "bench", func(engine.SnapshotHeader) error { return nil },
			func(*engine.SnapshotSection) error { return nil }))
	}
	hashAlone := func() {
		h := sha256.New()
		_, err := io.Copy(h, &allContent{})
		must(err)
		h.Sum(nil)
	}
	fileWrite := func() {
		f, err := os.Create(filepath.Join(root, "bare-file"))
		must(err)
		_, err = io.Copy(f, &allContent{})
		must(err)
		must(f.Sync())
		must(f.Close())
	}
	fileRead := func() {
		f, err := os.Open(filepath.Join(root, "bare-file"))
		must(err)
		_, err = io.Copy(io.Discard, f)
		must(err)
		must(f.Close())
	}
	// The client ends an object-store read whose context has no deadline after its default
	// timeout (5 s): the bare put and get are given one, as the archive does.
	longCtx, cancelLong := context.WithTimeout(ctx, 24*time.Hour)
	defer cancelLong()
	obsPut := func() {
		for {
			_, err := bare.Put(longCtx, jetstream.ObjectMeta{Name: "x"}, &allContent{})
			if !stalled(err) {
				must(err)
				return
			}
		}
	}
	obsGet := func() {
		r, err := bare.Get(longCtx, "x")
		must(err)
		_, err = io.Copy(io.Discard, r)
		must(err)
		must(r.Close())
	}

	// The writer: one 4 KiB write at offset 0 of a section, paced, from a handle of its own.
	wck, err := l.Open(ctx, "bench", nil, ckpt.OpenRead|ckpt.OpenWrite)
	must(err)
	defer wck.Close()
	written := 0
	writer := func(stop <-chan struct{}, s *stats.Samples) {
		data := bytes.Repeat([]byte{0x5a}, 4096)
		t := time.NewTicker(*writeEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			s.Time(func() {
				must(wck.Write(ctx, []ckpt.WriteElement{{SectionID: secID(written % *sections), Data: data}}))
			})
			written++
		}
	}
	// writerSamples holds the writer's times in each condition, over all the rounds; writerRounds
	// each round's p99.
	writerSamples := map[string]*stats.Samples{}
	writerRounds := map[string][]time.Duration{}
	withWriter := func(cond string, f func()) {
		stop := make(chan struct{})
		s := &stats.Samples{}
		var wg sync.WaitGroup
		wg.Go(func() { writer(stop, s) })
		f()
		close(stop)
		wg.Wait()
		if writerSamples[cond] == nil {
			writerSamples[cond] = &stats.Samples{}
		}
		for _, d := range s.All() {
			writerSamples[cond].Add(d)
		}
		writerRounds[cond] = append(writerRounds[cond], s.Percentile(99))
	}
	// backupTo backs up into m's archive, with a profile and a trace when asked (name: the archive
	// kind in their file names).
	stages := map[string][]backup.Stages{}
	backupTo := func(m *backup.Manager, name string, first bool) {
		prof, tr := *cpuProf, *traceFile
		if prof != "" && first {
			prof += "." + name
			f, err := os.Create(prof)
			must(err)
			must(pprof.StartCPUProfile(f))
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
		if tr != "" && first {
			f, err := os.Create(tr + "." + name)
			must(err)
			must(trace.Start(f))
			defer func() { trace.Stop(); _ = f.Close() }()
		}
		for {
			job, err := m.Start(ctx, backup.Request{Items: []backup.Item{{Checkpoint: "bench", BackupName: "b"}}, Overwrite: true})
			must(err)
			_, err = job.Wait(ctx)
			if !stalled(err) {
				must(err)
				stages[name] = append(stages[name], job.Stages())
				return
			}
		}
	}
	dirM, obsM := backup.New(l, dir), backup.New(l, obs)

	// The backups, each beside its bounds, with the writer going throughout; then the writer
	// alone for as long as the round's longest step.
	for round := range *rounds {
		type step struct {
			name string
			f    func()
		}
		pairs := [][]step{
			{{"store sequential read", seqRead}, {"bare file write+fsync", func() { withWriter("beside a bare file write+fsync", fileWrite) }},
				{"backup to directory", func() { withWriter("during backup to directory", func() { backupTo(dirM, "directory", round == 0) }) }}},
			{{"bare object put", func() { withWriter("beside a bare object put", obsPut) }},
				{"backup to object store", func() {
					withWriter("during backup to object store", func() { backupTo(obsM, "objectstore", round == 0) })
				}}},
		}
		var longest time.Duration
		for _, p := range pairs {
			if round%2 == 1 {
				slices.Reverse(p)
			}
			for _, s := range p {
				longest = max(longest, timed(s.name, s.f))
			}
		}
		timed("writer alone", func() { withWriter("alone", func() { time.Sleep(longest) }) })
		timed("engine cut alone", cutAlone)
		timed("SHA-256 of the bytes", hashAlone)
		fmt.Printf("round %d: backup to directory %.0f MB/s, to object store %.0f MB/s\n", round+1,
			mbs(total, tab.res["backup to directory"][round].d), mbs(total, tab.res["backup to object store"][round].d))
	}
	// The restores, after the backups (they write the store, whose compactions follow).
	for round := range min(*rounds, 3) {
		restoreFrom := func(m *backup.Manager) func() {
			return func() {
				rck, err := m.Restore(ctx, backup.RestoreRequest{BackupName: "b", Target: "restored", Flags: ckpt.OpenRead})
				must(err)
				must(rck.Close())
			}
		}
		pairs := [][]struct {
			name string
			f    func()
		}{
			{{"store sequential write", seqWrite}, {"bare file read", fileRead}, {"restore from directory", restoreFrom(dirM)}},
			{{"bare object get", obsGet}, {"restore from object store", restoreFrom(obsM)}},
		}
		for _, p := range pairs {
			if round%2 == 1 {
				slices.Reverse(p)
			}
			for _, s := range p {
				timed(s.name, s.f)
				if strings.HasPrefix(s.name, "restore") {
					must(l.Delete(ctx, "restored"))
				}
			}
		}
	}

	fmt.Printf("\n%-28s %9s %9s  %-34s %s\n", "", "MB/s", "time", "MB/s in each round", "others' load (processors) / our threads' run-queue wait (per s) / goroutines' p99 wait to run")
	for _, n := range tab.names {
		var ds []float64
		var each, load []string
		for _, r := range tab.res[n] {
			ds = append(ds, float64(r.d))
			each = append(each, fmt.Sprintf("%.0f", mbs(total, r.d)))
			load = append(load, fmt.Sprintf("%.1f/%.2f/%s", r.others, r.runDelay, stats.Round(r.goWait)))
		}
		d := time.Duration(median(ds))
		rate := fmt.Sprintf("%9.0f", mbs(total, d))
		if n == "writer alone" {
			rate, each = fmt.Sprintf("%9s", ""), nil
		}
		fmt.Printf("%-28s %s %9s  %-34s %s\n", n, rate, stats.Round(d), strings.Join(each, " "), strings.Join(load, " "))
	}
	fmt.Println()
	for _, c := range []struct{ what, bound1, bound2 string }{
		{"backup to directory", "store sequential read", "bare file write+fsync"},
		{"backup to object store", "store sequential read", "bare object put"},
		{"restore from directory", "bare file read", "store sequential write"},
		{"restore from object store", "bare object get", "store sequential write"},
	} {
		ours, b1, b2 := tab.rates(c.what, total), tab.rates(c.bound1, total), tab.rates(c.bound2, total)
		var ratios []string
		var rs []float64
		for i := range ours {
			r := ours[i] / min(b1[i], b2[i])
			rs = append(rs, r)
			ratios = append(ratios, fmt.Sprintf("%.2f", r))
		}
		ratio := median(rs)
		verdict := ""
		if strings.HasPrefix(c.what, "backup") {
			verdict = map[bool]string{true: "goal >= 0.80: met", false: "goal >= 0.80: NOT MET"}[ratio >= 0.8]
		}
		fmt.Printf("%-26s / slower of (%s, %s): median %.2f (rounds: %s)  %s\n", c.what, c.bound1, c.bound2, ratio,
			strings.Join(ratios, " "), verdict)
	}
	fmt.Printf("\nwhere the backups' time went (median over the rounds; the stages overlap):\n")
	for _, name := range []string{"directory", "objectstore"} {
		field := func(f func(backup.Stages) time.Duration) time.Duration {
			var v []float64
			for _, st := range stages[name] {
				v = append(v, float64(f(st)))
			}
			return stats.Round(time.Duration(median(v)))
		}
		fmt.Printf("  %-12s cut %s (waiting for the archive %s), hashing %s, archive %s (waiting for chunks %s)\n", name,
			field(func(s backup.Stages) time.Duration { return s.Cut }), field(func(s backup.Stages) time.Duration { return s.CutWaited }),
			field(func(s backup.Stages) time.Duration { return s.Hashing }), field(func(s backup.Stages) time.Duration { return s.Archive }),
			field(func(s backup.Stages) time.Duration { return s.ArchiveIdle }))
	}
	if len(stalls) > 0 {
		fmt.Printf("\nobject-store puts that stalled (retried): %v\n", stalls)
	}
	fmt.Printf("\nwriter, 4 KiB write every %s, over all rounds (p99 of each round in brackets):\n", *writeEvery)
	alone := writerSamples["alone"]
	p99s := func(cond string) string {
		var out []string
		for _, d := range writerRounds[cond] {
			out = append(out, stats.Round(d).String())
		}
		return strings.Join(out, " ")
	}
	fmt.Printf("  %-30s n %6d  %s  [%s]\n", "alone", alone.Len(), alone.Summary(), p99s("alone"))
	for _, cond := range []string{"beside a bare file write+fsync", "beside a bare object put", "during backup to directory", "during backup to object store"} {
		s := writerSamples[cond]
		ratio := float64(s.Percentile(99)) / float64(alone.Percentile(99))
		goal := ""
		if strings.HasPrefix(cond, "during") {
			goal = fmt.Sprintf(" (goal <= 2x: %s)", map[bool]string{true: "met", false: "NOT MET"}[ratio <= 2])
		}
		fmt.Printf("  %-30s n %6d  %s  p99 %.2fx%s  [%s]\n", cond, s.Len(), s.Summary(), ratio, goal, p99s(cond))
	}
}
