package main

import (
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/clckpt/libclckpt/bench/stats"
	"github.com/clckpt/libclckpt/engine/store"
)

// openTimes times the opening of a fresh store (what clCkptInitialize opens for a new member)
// beside a bare Badger database with the same options, alternating, and profiles the store's opens
// into prof when it is set: where the first part of clCkptInitialize goes.
func openTimes(n int, prof string) {
	var ours, bare stats.Samples
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	for i := 0; i < n; i++ {
		dir, _ := os.MkdirTemp("", "clckpt-open-")
		start := time.Now()
		s, err := store.OpenBadger(store.BadgerOptions{Dir: dir + "/store"})
		if err != nil {
			log.Fatal(err)
		}
		ours.Add(time.Since(start))
		_ = s.Close()
		start = time.Now()
		db := bareBadger(dir + "/bare")
		bare.Add(time.Since(start))
		_ = db.Close()
		_ = os.RemoveAll(dir)
	}
	fmt.Printf("open of a new store (the first part of clCkptInitialize), %d opens:\n  store %s\n  bare Badger, same options %s\n\n",
		n, ours.Summary(), bare.Summary())
}
