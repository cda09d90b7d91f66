package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

// threads measures 256 B overwrites per second from 8 goroutines and from 1 on the engine (a
// Local service, one checkpoint, each writer its own section), alternating, and with prof set
// writes the mutex-contention profile of the 8-writer runs there: where the writers wait on one another.
func threads(d time.Duration, prof string) {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "clckpt-bench-")
	defer os.RemoveAll(dir)
	svc, err := engine.OpenLocal(engine.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	attrs := &ckpt.Attributes{Flags: ckpt.WriteActiveReplica, MaxSections: 8, MaxSectionIDSize: 16, Retention: ckpt.RetainForever}
	h, err := svc.Open(ctx, "threads", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	if err != nil {
		log.Fatal(err)
	}
	ids := make([][]byte, 8)
	for i := range ids {
		ids[i] = []byte(fmt.Sprintf("t%d", i))
		if _, err := h.CreateSection(ctx, ids[i], ckpt.Never, []byte("x")); err != nil {
			log.Fatal(err)
		}
	}
	run := func(n int) float64 {
		var count atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		start := time.Now()
		for _, id := range ids[:n] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := make([]byte, 256)
				for !stop.Load() {
					if err := h.Overwrite(ctx, id, data); err != nil {
						log.Fatal(err)
					}
					count.Add(1)
				}
			}()
		}
		time.Sleep(d)
		stop.Store(true)
		wg.Wait()
		return float64(count.Load()) / time.Since(start).Seconds()
	}
	var r8, r1 float64
	for round := 0; round < 2; round++ {
		if prof != "" && round == 1 {
			runtime.SetMutexProfileFraction(1)
		}
		r8 = max(r8, run(8))
		if prof != "" && round == 1 {
			f, err := os.Create(prof)
			if err != nil {
				log.Fatal(err)
			}
			_ = pprof.Lookup("mutex").WriteTo(f, 0)
			f.Close()
			runtime.SetMutexProfileFraction(0)
		}
		r1 = max(r1, run(1))
	}
	fmt.Printf("engine (Go, no C layer), 256 B overwrites/s, one checkpoint, each writer its own section, best of 2 runs of %s:\n", d)
	fmt.Printf("  8 goroutines %.0f, 1 goroutine %.0f: %.2fx\n\n", r8, r1, r8/r1)
}
