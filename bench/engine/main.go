// Command engine measures the checkpoint engine beside a bare Badger database in the same run:
// Overwrite against a Badger Update of the same size, Read against a Badger Get, and the resident
// memory of 10,000 checkpoints x 10 sections x 1 KiB. Run it with `make bench`; BENCHMARKS.md
// explains the method and records results.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

var (
	ops      = flag.Int("ops", 20000, "operations per measurement")
	rounds   = flag.Int("rounds", 5, "alternating rounds of engine and Badger, to even out drift")
	memChild = flag.Bool("memory-child", false, "internal: run the memory measurement in this process")
	memProf  = flag.String("memprofile", "", "write a heap profile of the memory measurement to this file")
	opens    = flag.Int("opens", 20, "opens of a new store to time")
	openProf = flag.String("open-cpuprofile", "", "write a CPU profile of the store's opens to this file")
	thrTime  = flag.Duration("threads-time", time.Second, "duration of one run of the 8 / 1 writer comparison")
	thrProf  = flag.String("mutexprofile", "", "write the mutex profile of the 8-writer runs to this file")
	sizes    = []int{256, 4 << 10, 64 << 10}
)

func main() {
	flag.Parse()
	if *memChild {
		memory()
		return
	}
	fmt.Printf("engine vs bare Badger, %d ops x %d rounds per cell, GOMAXPROCS=%d, %s\n\n", *ops, *rounds, runtime.GOMAXPROCS(0), runtime.Version())
	openTimes(*opens, *openProf)
	threads(*thrTime, *thrProf)
	for _, size := range sizes {
		latency(size)
	}
	// The memory measurement runs in a fresh process, so that nothing above inflates its RSS.
	cmd := exec.Command(os.Args[0], "-memory-child")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}
}

// bareBadger opens Badger with the options of the engine's store (engine/store/badger.go), value-log
// files of 64 MiB included. The store also collects value-log garbage (every 32 MiB of values
// logged); bare Badger collects none here, which favours it.
func bareBadger(dir string) *badger.DB {
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithMetricsEnabled(false).
		WithMemTableSize(8 << 20).WithNumMemtables(2).WithValueThreshold(1 << 10).WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(0).WithIndexCacheSize(0).WithCompression(options.None).
		WithNumLevelZeroTables(4).WithNumLevelZeroTablesStall(10).WithNumCompactors(2).WithDetectConflicts(false))
	if err != nil {
		log.Fatal(err)
	}
	return db
}

func latency(size int) {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	db := bareBadger(dir + "/badger")
	defer db.Close()
	svc, err := engine.OpenLocal(engine.Options{Dir: dir + "/engine"})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	attrs := &ckpt.Attributes{Flags: ckpt.WriteActiveReplica, MaxSections: 16, MaxSectionIDSize: 16, Retention: ckpt.RetainForever}
	h, err := svc.Open(ctx, "bench", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	if err != nil {
		log.Fatal(err)
	}
	const keys = 16 // a few sections, written round robin, as a checkpointing application does
	ids := make([][]byte, keys)
	bkeys := make([][]byte, keys)
	data := make([]byte, size)
	for i := range ids {
		ids[i] = []byte(fmt.Sprintf("section-%02d", i))
		bkeys[i] = []byte(fmt.Sprintf("bench/section-%02d", i))
		if _, err := h.CreateSection(ctx, ids[i], ckpt.Never, data); err != nil {
			log.Fatal(err)
		}
	}
	var engW, badW, engR, badR stats.Samples
	buf := make([]byte, size)
	for r := 0; r < *rounds; r++ {
		for i := 0; i < *ops; i++ {
			k := bkeys[i%keys]
			badW.Time(func() {
				if err := db.Update(func(txn *badger.Txn) error { return txn.Set(k, data) }); err != nil {
					log.Fatal(err)
				}
			})
		}
		for i := 0; i < *ops; i++ {
			id := ids[i%keys]
			engW.Time(func() {
				if err := h.Overwrite(ctx, id, data); err != nil {
					log.Fatal(err)
				}
			})
		}
		for i := 0; i < *ops; i++ {
			k := bkeys[i%keys]
			badR.Time(func() {
				err := db.View(func(txn *badger.Txn) error {
					item, err := txn.Get(k)
					if err != nil {
						return err
					}
					return item.Value(func(v []byte) error { copy(buf, v); return nil })
				})
				if err != nil {
					log.Fatal(err)
				}
			})
		}
		el := make([]ckpt.ReadElement, 1)
		for i := 0; i < *ops; i++ {
			el[0] = ckpt.ReadElement{SectionID: ids[i%keys], Buffer: buf}
			engR.Time(func() {
				if err := h.Read(ctx, el); err != nil {
					log.Fatal(err)
				}
			})
		}
	}
	fmt.Printf("%6s  Badger Update   %s\n", sizeName(size), badW.Summary())
	r := float64(engW.Percentile(50)) / float64(badW.Percentile(50))
	fmt.Printf("%6s  engine Overwrite %s   ratio p50 %.2fx (goal <= 1.50x: %s)\n", "", engW.Summary(), r, stats.Met(r <= 1.5))
	fmt.Printf("%6s  Badger Get      %s\n", "", badR.Summary())
	goal := ""
	if size == 4<<10 {
		goal = fmt.Sprintf("  (goal: p50 <= 2us: %s)", stats.Met(engR.Percentile(50) <= 2*time.Microsecond))
	}
	fmt.Printf("%6s  engine Read     %s   ratio p50 %s%s\n\n", "", engR.Summary(), stats.Ratio(engR.Percentile(50), badR.Percentile(50)), goal)
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// memory loads 10,000 checkpoints of 10 sections of 1 KiB and reports the resident memory.
func memory() {
	const checkpoints, sections, size = 10000, 10, 1 << 10
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "clckpt-mem-")
	defer os.RemoveAll(dir)
	before, _ := stats.RSS()
	svc, err := engine.OpenLocal(engine.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	attrs := &ckpt.Attributes{Flags: ckpt.WriteActiveReplica, MaxSections: sections, MaxSectionIDSize: 16, Retention: ckpt.RetainForever}
	data := make([]byte, size)
	start := time.Now()
	for c := 0; c < checkpoints; c++ {
		h, err := svc.Open(ctx, fmt.Sprintf("checkpoint-%05d", c), attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		if err != nil {
			log.Fatal(err)
		}
		for s := 0; s < sections; s++ {
			data[0], data[1] = byte(c), byte(s)
			if _, err := h.CreateSection(ctx, []byte(fmt.Sprintf("s%d", s)), ckpt.Never, data); err != nil {
				log.Fatal(err)
			}
		}
	}
	load := time.Since(start)
	runtime.GC()
	debug.FreeOSMemory()
	after, _ := stats.RSS()
	if *memProf != "" {
		f, err := os.Create(*memProf)
		if err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	total := int64(checkpoints * sections * size)
	limit := total*3/2 + 50<<20
	fmt.Printf("memory: %d checkpoints x %d sections x %d B = %s of data, loaded in %s\n", checkpoints, sections, size, stats.MiB(total), load.Round(time.Millisecond))
	fmt.Printf("        RSS %s (process before opening: %s; Go heap in use %s)\n", stats.MiB(after), stats.MiB(before), stats.MiB(int64(ms.HeapInuse)))
	fmt.Printf("        goal: RSS <= 1.5 x data + 50 MiB = %s -> %s\n", stats.MiB(limit), map[bool]string{true: "met", false: "NOT met"}[after <= limit])
	if err := svc.Close(); err != nil {
		log.Fatal(err)
	}
}
