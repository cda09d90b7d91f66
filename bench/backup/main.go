// Command backup measures backups and restores of one checkpoint (by default 16,384 sections of 64
// KiB: 1 GiB) into a directory archive and into a JetStream object store, beside what bounds them
// in the same run: the store's own sequential read of the same sections, a bare file write (with
// fsync) and a bare object-store put and get of the same bytes. It also times a concurrent
// writer's 4 KiB writes into the checkpoint during a backup and without one. Run it with `make
// bench`; BENCHMARKS.md explains the method and records results.
package main

import (
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
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
	cpuProf     = flag.String("cpuprofile", "", "write a CPU profile of the backup to the directory archive to this file")
	dirFlag     = flag.String("dir", "", "where the store, the archive and the NATS server's files go (default: a temporary directory)")
)

var ctx = context.Background()

// cleanup removes the temporary directory, also when must ends the program.
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

func main() {
	flag.Parse()
	root := *dirFlag
	if root == "" {
		var err error
		root, err = os.MkdirTemp("", "clckpt-bench-backup-")
		must(err)
		cleanup = func() { _ = os.RemoveAll(root) }
		defer cleanup()
	}
	total := int64(*sections) * int64(*sectionSize)
	for i := range min(64, *sections) {
		pool = append(pool, content(i, *sectionSize))
	}
	fmt.Printf("backup and restore of %d sections x %d B (%d MiB), GOMAXPROCS=%d, %s\n\n", *sections, *sectionSize, total>>20,
		runtime.GOMAXPROCS(0), runtime.Version())

	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(root, "nats"),
		NoSigs: true, JetStreamMaxStore: 64 << 30})
	must(err)
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(30 * time.Second) {
		log.Fatal("nats server not ready")
	}
	nc, err := nats.Connect(ns.ClientURL())
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

	// The bounds, each measured before and after the backups (the best of the two is kept).
	seqRead := func() time.Duration {
		start := time.Now()
		buf := make([]byte, *sectionSize)
		for i := range *sections {
			must(ck.Read(ctx, []ckpt.ReadElement{{SectionID: secID(i), Buffer: buf}}))
		}
		return time.Since(start)
	}
	seqWrite := func() time.Duration {
		start := time.Now()
		for i := range *sections {
			must(ck.Overwrite(ctx, secID(i), content(i, *sectionSize)))
		}
		return time.Since(start)
	}
	// What the backup does besides writing the archive: the engine's cut alone (every section
	// handed over, then dropped), and SHA-256 over the bytes (the format hashes each byte once, in
	// its chunk's digest).
	cutAlone := func() time.Duration {
		start := time.Now()
		must(l.SnapshotCheckpoint(ctx, "bench", func(engine.SnapshotHeader) error { return nil },
			func(*engine.SnapshotSection) error { return nil }))
		return time.Since(start)
	}
	hashAlone := func() time.Duration {
		start := time.Now()
		h := sha256.New()
		_, err := io.Copy(h, &allContent{})
		must(err)
		h.Sum(nil)
		return time.Since(start)
	}
	fileWrite := func() time.Duration {
		start := time.Now()
		f, err := os.Create(filepath.Join(root, "bare-file"))
		must(err)
		_, err = io.Copy(f, &allContent{})
		must(err)
		must(f.Sync())
		must(f.Close())
		return time.Since(start)
	}
	fileRead := func() time.Duration {
		start := time.Now()
		f, err := os.Open(filepath.Join(root, "bare-file"))
		must(err)
		_, err = io.Copy(io.Discard, f)
		must(err)
		must(f.Close())
		return time.Since(start)
	}
	// The client ends an object-store read whose context has no deadline after its default
	// timeout (5 s): the bare put and get are given one, as the archive does.
	longCtx, cancelLong := context.WithTimeout(ctx, 24*time.Hour)
	defer cancelLong()
	obsPut := func() time.Duration {
		for {
			start := time.Now()
			_, err := bare.Put(longCtx, jetstream.ObjectMeta{Name: "x"}, &allContent{})
			if !stalled(err) {
				must(err)
				return time.Since(start)
			}
		}
	}
	obsGet := func() time.Duration {
		start := time.Now()
		r, err := bare.Get(longCtx, "x")
		must(err)
		_, err = io.Copy(io.Discard, r)
		must(err)
		must(r.Close())
		return time.Since(start)
	}

	best := map[string]time.Duration{}
	keep := func(name string, d time.Duration) {
		if b, ok := best[name]; !ok || d < b {
			best[name] = d
		}
	}
	measureBounds := func() {
		keep("store sequential read", seqRead())
		keep("store sequential write", seqWrite())
		keep("engine cut alone", cutAlone())
		keep("SHA-256 of the bytes", hashAlone())
		keep("bare file write+fsync", fileWrite())
		keep("bare file read", fileRead())
		keep("bare object put", obsPut())
		keep("bare object get", obsGet())
	}
	measureBounds()

	// The writer: one 4 KiB write at offset 0 of a section, paced, from a handle of its own.
	wck, err := l.Open(ctx, "bench", nil, ckpt.OpenRead|ckpt.OpenWrite)
	must(err)
	defer wck.Close()
	writer := func(stop <-chan struct{}) *stats.Samples {
		s := &stats.Samples{}
		data := bytes.Repeat([]byte{0x5a}, 4096)
		t := time.NewTicker(*writeEvery)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return s
			case <-t.C:
			}
			s.Time(func() {
				must(wck.Write(ctx, []ckpt.WriteElement{{SectionID: secID(i % *sections), Data: data}}))
			})
		}
	}
	withWriter := func(f func()) *stats.Samples {
		stop := make(chan struct{})
		var s *stats.Samples
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); s = writer(stop) }()
		f()
		close(stop)
		wg.Wait()
		return s
	}

	type run struct {
		name string
		ar   archive.Archive
	}
	writerDuring := map[string]*stats.Samples{}
	var backupTime time.Duration
	for _, r := range []run{{"directory", dir}, {"object store", obs}} {
		m := backup.New(l, r.ar)
		var bt time.Duration
		writerDuring[r.name] = withWriter(func() {
			if *cpuProf != "" && r.name == "directory" {
				f, err := os.Create(*cpuProf)
				must(err)
				must(pprof.StartCPUProfile(f))
				defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
			}
			for {
				start := time.Now()
				job, err := m.Start(ctx, backup.Request{Items: []backup.Item{{Checkpoint: "bench", BackupName: "b"}}, Overwrite: true})
				must(err)
				_, err = job.Wait(ctx)
				if !stalled(err) {
					must(err)
					bt = time.Since(start)
					break
				}
			}
		})
		keep("backup to "+r.name, bt)
		backupTime = max(backupTime, bt)
		start := time.Now()
		rck, err := m.Restore(ctx, backup.RestoreRequest{BackupName: "b", Target: "restored", Flags: ckpt.OpenRead})
		must(err)
		keep("restore from "+r.name, time.Since(start))
		must(rck.Close())
		must(l.Delete(ctx, "restored"))
	}
	// The writer alone, as long as the longer backup; then beside the bare file write of the same
	// bytes (load on the machine without a backup), to tell the backup's own cost from the load's.
	alone := withWriter(func() { time.Sleep(backupTime) })
	beside := withWriter(func() { keep("bare file write+fsync", fileWrite()) })
	besidePut := withWriter(func() { keep("bare object put", obsPut()) })
	measureBounds()

	fmt.Println()
	fmt.Printf("%-26s %10s %10s\n", "", "MB/s", "time")
	for _, n := range []string{"store sequential read", "store sequential write", "engine cut alone", "SHA-256 of the bytes", "bare file write+fsync", "bare file read", "bare object put", "bare object get",
		"backup to directory", "restore from directory", "backup to object store", "restore from object store"} {
		fmt.Printf("%-26s %10.0f %10s\n", n, mbs(total, best[n]), stats.Round(best[n]))
	}
	rate := func(n string) float64 { return mbs(total, best[n]) }
	fmt.Println()
	for _, c := range []struct{ what, bound1, bound2 string }{
		{"backup to directory", "store sequential read", "bare file write+fsync"},
		{"backup to object store", "store sequential read", "bare object put"},
		{"restore from directory", "bare file read", "store sequential write"},
		{"restore from object store", "bare object get", "store sequential write"},
	} {
		slower := min(rate(c.bound1), rate(c.bound2))
		ratio := rate(c.what) / slower
		verdict := ""
		if c.what[:6] == "backup" {
			verdict = map[bool]string{true: "goal >= 0.80: met", false: "goal >= 0.80: NOT MET"}[ratio >= 0.8]
		}
		fmt.Printf("%-26s / slower of (%s, %s) = %.2f  %s\n", c.what, c.bound1, c.bound2, ratio, verdict)
	}
	if len(stalls) > 0 {
		fmt.Printf("\nobject-store puts that stalled (retried): %v\n", stalls)
	}
	fmt.Printf("\nwriter, 4 KiB write every %s:\n", *writeEvery)
	fmt.Printf("  %-30s n %6d  %s\n", "alone", alone.Len(), alone.Summary())
	for _, b := range []struct {
		what string
		s    *stats.Samples
	}{{"beside a bare file write+fsync", beside}, {"beside a bare object put", besidePut}} {
		fmt.Printf("  %-30s n %6d  %s  p99 %.2fx\n", b.what, b.s.Len(), b.s.Summary(), float64(b.s.Percentile(99))/float64(alone.Percentile(99)))
	}
	for _, n := range []string{"directory", "object store"} {
		s := writerDuring[n]
		ratio := float64(s.Percentile(99)) / float64(alone.Percentile(99))
		fmt.Printf("  %-30s n %6d  %s  p99 %.2fx (goal <= 2x: %s)\n", "during backup to "+n, s.Len(), s.Summary(), ratio,
			map[bool]string{true: "met", false: "NOT MET"}[ratio <= 2])
	}
}
