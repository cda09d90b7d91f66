// Package procstats measures what a long-running process holds (goroutines, live heap, RSS, open
// file descriptors) and logs it periodically, so that an operator can see a leak as it grows
// (CLCKPT_STATS_INTERVAL).
package procstats

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

// Sample is one measurement of the process.
type Sample struct {
	Goroutines int
	HeapLive   uint64 // bytes of Go heap live after the last GC
	// GoHeld is the memory the Go runtime has mapped and not given back to the OS (heap, free
	// spans not yet scavenged, stacks, runtime structures): what of RSSAnon is Go's at most.
	GoHeld uint64
	RSS    uint64 // resident set size in bytes (0 where /proc is missing)
	// RSSAnon is the anonymous part of RSS: heap, stacks, C allocations. The rest maps files, such
	// as a store's memory-mapped value log, and follows what the store holds.
	RSSAnon uint64
	FDs     int // open file descriptors (-1 where /proc is missing)
	Threads int // OS threads (each may keep a C allocator cache of its own)
}

// Read measures the process now.
func Read() Sample {
	s := Sample{Goroutines: runtime.NumGoroutine(), FDs: -1}
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(m)
	v := func(i int) uint64 {
		if m[i].Value.Kind() == metrics.KindUint64 {
			return m[i].Value.Uint64()
		}
		return 0
	}
	s.HeapLive = v(0)
	if total, released := v(1), v(2); total > released {
		s.GoHeld = total - released
	}
	// statm: size resident shared ... in pages.
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			if pages, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
				s.RSS = pages * uint64(os.Getpagesize())
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			f := bytes.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch string(f[0]) {
			case "RssAnon:":
				if kb, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
					s.RSSAnon = kb << 10
				}
			case "Threads:":
				s.Threads, _ = strconv.Atoi(string(f[1]))
			}
		}
	}
	if d, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.FDs = len(d) - 1 // less the descriptor ReadDir itself had open
	}
	return s
}

// CountGoroutines counts the goroutines from one goroutine profile (one brief stop of the world):
// all, and the process's own: those with a stack of their own, that is not a C thread calling in
// (a frame of runtime.cgocallback) nor a C thread's goroutine parked outside Go (no Go frame at
// all). In a program that calls the library from C, each calling thread is a goroutine while it is
// in a call, and may stay one between calls.
func CountGoroutines() (all, own int) {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return runtime.NumGoroutine(), -1
	}
	// debug=1 format: a record per distinct stack, "N @ pc pc ..." then a "#\tpc\tfunction..."
	// line per Go frame, then a blank line.
	n, goFrames, fromC := 0, false, false
	end := func() {
		all += n
		if goFrames && !fromC {
			own += n
		}
		n, goFrames, fromC = 0, false, false
	}
	for _, line := range bytes.Split(b.Bytes(), []byte("\n")) {
		switch {
		case len(line) > 0 && line[0] >= '0' && line[0] <= '9':
			end()
			if i := bytes.Index(line, []byte(" @")); i > 0 {
				n, _ = strconv.Atoi(string(line[:i]))
			}
		case bytes.HasPrefix(line, []byte("#\t")):
			goFrames = true
			if bytes.Contains(line, []byte("runtime.cgocallback")) {
				fromC = true
			}
		}
	}
	end()
	return all, own
}

// Start logs a "stats" line on log at level Info every interval until stop is called; extra, if
// not nil, adds attributes of the caller's own (open handles, ...). The logger must let Info through.
// With collect, the memory of each line is measured after Collect (goroutines and extra before).
func Start(interval time.Duration, collect bool, log *slog.Logger, extra func() []slog.Attr) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			// Goroutines are counted before the collection, which holds up the threads calling
			// in and out while it stops the world.
			g, own := CountGoroutines()
			var more []slog.Attr
			if extra != nil {
				more = extra()
			}
			if collect {
				Collect()
			}
			s := Read()
			attrs := []slog.Attr{slog.Int("goroutines", g), slog.Int("own_goroutines", own),
				slog.Uint64("heap_live", s.HeapLive),
				slog.Uint64("go_held", s.GoHeld),
				slog.Uint64("rss", s.RSS), slog.Uint64("rss_anon", s.RSSAnon), slog.Int("fds", s.FDs), slog.Int("threads", s.Threads)}
			attrs = append(attrs, more...)
			log.LogAttrs(context.Background(), slog.LevelInfo, "stats", attrs...)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// Collect runs two full garbage collections (the second empties what sync.Pools kept through the
// first: pooled buffers are live until then) and gives the freed memory back to the system, so that
// what Read measures next is what the process retains.
func Collect() {
	runtime.GC()
	debug.FreeOSMemory()
}

// SampleHeap turns the Go runtime's heap sampling on or off for the rest of the process; call it
// early, with on set only when a heap profile will be written. By default Go samples an allocation
// every 512 KiB and keeps a record for each distinct call stack it sampled, for the life of the
// process and never freed: in a long-running program that calls many different paths (the soak:
// about 1.5 MiB after a minute, and growing) this is memory and CPU nobody asked for.
func SampleHeap(on bool) {
	if !on {
		runtime.MemProfileRate = 0
	}
}

// WriteHeapProfile writes a pprof heap profile of what is live now (after a GC) to path
// (diagnostics: `go tool pprof` reads it).
func WriteHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
