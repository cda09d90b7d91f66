// Command writer is the writing side of the failover tests: it joins the checkpoint service as an
// application member (settings from the environment), makes numbered writes and prints "ack N" once
// write N has returned. Write N puts N+1 at slot N%100 of section log<N/100>, so a checker can see
// every acknowledged write in the final content. A failed write is retried (the same write) until it
// succeeds. Before "done" it prints how many calls it forwarded on call links and through NATS.
//
// With -hold-at N and -hold-file F it prints "holding" once write N has returned and waits until F
// exists before the next (a test then knows which writes come after a step of its own). With -stay
// it then reads each section once, prints "stayed" and waits for SIGTERM (the metrics test scrapes
// it meanwhile).
//
// Usage: writer -name ckpt -n 10000 [-mode all|async] [-pause 1ms] [-hold-at N -hold-file F] [-stay]
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
)

// Layout shared with the checker.
const (
	Sections    = 100
	SlotsPerSec = 100
)

func main() {
	name := flag.String("name", "numbered", "checkpoint name")
	n := flag.Int("n", 10000, "number of writes")
	mode := flag.String("mode", "all", "all: WR_ALL_REPLICAS; async: WR_ACTIVE_REPLICA")
	pause := flag.Duration("pause", 0, "pause between writes")
	stay := flag.Bool("stay", false, "then read each section once and wait for SIGTERM")
	holdAt := flag.Int("hold-at", -1, "after write N, wait until -hold-file exists")
	holdFile := flag.String("hold-file", "", "the file -hold-at waits for")
	flag.Parse()
	cfg, err := config.FromEnv()
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	m, err := replication.Join(jctx, replication.Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))})
	cancel()
	if err != nil {
		fail(err)
	}
	defer m.Close()
	flags := ckpt.WriteAllReplicas
	if *mode == "async" {
		flags = ckpt.WriteActiveReplica
	}
	attrs := &ckpt.Attributes{Flags: flags, Retention: ckpt.RetainForever, MaxSections: Sections + 1,
		MaxSectionSize: SlotsPerSec * 8, MaxSectionIDSize: 16}
	var h ckpt.Checkpoint
	retry(func() error {
		h, err = m.Open(ctx, *name, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		return err
	}, "open")
	for s := 0; s < Sections; s++ {
		retry(func() error {
			_, err := h.CreateSection(ctx, SectionID(s), ckpt.Never, make([]byte, SlotsPerSec*8))
			if errors.Is(err, ckpt.ErrAlreadyExist) {
				return nil
			}
			return err
		}, "create")
	}
	fmt.Println("ready")
	for i := 0; i < *n; i++ {
		el := []ckpt.WriteElement{{SectionID: SectionID(i / SlotsPerSec), Offset: int64(i%SlotsPerSec) * 8,
			Data: binary.BigEndian.AppendUint64(nil, uint64(i+1))}}
		retry(func() error {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			return h.Write(wctx, el)
		}, fmt.Sprint(i))
		fmt.Println("ack", i)
		if i == *holdAt {
			fmt.Println("holding")
			for _, err := os.Stat(*holdFile); err != nil; _, err = os.Stat(*holdFile) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if *pause > 0 {
			time.Sleep(*pause)
		}
	}
	onLinks, onNATS := m.CallsSent()
	fmt.Printf("calls %d on links, %d through NATS\n", onLinks, onNATS)
	fmt.Println("done")
	if *stay {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		for s := 0; s < Sections; s++ {
			if err := h.Read(ctx, []ckpt.ReadElement{{SectionID: SectionID(s), Buffer: make([]byte, 8)}}); err != nil {
				fail(err)
			}
		}
		fmt.Println("stayed")
		<-sig
	}
}

// SectionID is the id of section s.
func SectionID(s int) []byte { return []byte(fmt.Sprintf("log%03d", s)) }

// retry runs f until it succeeds, for up to two minutes: the time a cluster may take to settle
// after a fault, whatever the errors on the way.
func retry(f func() error, what string) {
	for start := time.Now(); ; {
		err := f()
		if err == nil {
			return
		}
		fmt.Println("retry", what, err)
		if time.Since(start) > 2*time.Minute {
			fail(fmt.Errorf("%s: giving up: %w", what, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fail(err error) {
	fmt.Println("error", err)
	os.Exit(1)
}
