// Package backuptest holds what the backup tests of several packages share: checkpoints whose
// sections concurrent writers keep at one counter (a copy that is a cut holds one counter in all
// of them), and a backup source that acts in the middle of a cut.
package backuptest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/clckpt/libclckpt/engine"
)

// SectionID is the id of counter section i.
func SectionID(i int) []byte { return fmt.Appendf(nil, "s%02d", i) }

// WriteCounter writes v as the first 8 bytes of sections 0..n-1 in one multi-section write.
func WriteCounter(ctx context.Context, ck engine.Checkpoint, n int, v uint64) error {
	els := make([]engine.WriteElement, n)
	for i := range els {
		els[i] = engine.WriteElement{SectionID: SectionID(i), Data: binary.LittleEndian.AppendUint64(nil, v)}
	}
	return ck.Write(ctx, els)
}

// Counters reads the counters of sections 0..n-1 in one read.
func Counters(ctx context.Context, ck engine.Checkpoint, n int) ([]uint64, error) {
	els := make([]engine.ReadElement, n)
	for i := range els {
		els[i] = engine.ReadElement{SectionID: SectionID(i), Buffer: make([]byte, 8)}
	}
	if err := ck.Read(ctx, els); err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range els {
		out[i] = binary.LittleEndian.Uint64(els[i].Buffer)
	}
	return out, nil
}

// OneCounter reads the counters of sections 0..n-1 and returns the one they all hold, or an error
// naming the first section that differs.
func OneCounter(ctx context.Context, ck engine.Checkpoint, n int) (uint64, error) {
	vals, err := Counters(ctx, ck, n)
	if err != nil {
		return 0, err
	}
	for i := range vals {
		if vals[i] != vals[0] {
			return 0, fmt.Errorf("a mix: section %d holds %d, section 0 %d", i, vals[i], vals[0])
		}
	}
	return vals[0], nil
}

// Writers write ever higher counters into sections 0..n-1 through their handles (one writer per
// handle) until Stop. (With concurrent writers the last write applied need not carry the highest
// counter.)
type Writers struct {
	counter, writes atomic.Uint64
	wg              sync.WaitGroup
	done            chan struct{}
	first           atomic.Pointer[error]
}

// StartWriters starts one writer per handle in hs.
func StartWriters(hs []engine.Checkpoint, n int) *Writers {
	w := &Writers{done: make(chan struct{})}
	for _, h := range hs {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.done:
					return
				default:
				}
				if err := WriteCounter(context.Background(), h, n, w.counter.Add(1)); err != nil {
					w.first.CompareAndSwap(nil, &err)
					return
				}
				w.writes.Add(1)
			}
		}()
	}
	return w
}

// Writes is the number of writes acknowledged so far.
func (w *Writers) Writes() uint64 { return w.writes.Load() }

// Highest is the highest counter given to a write so far.
func (w *Writers) Highest() uint64 { return w.counter.Load() }

// Stop stops the writers and returns the first error one of them met.
func (w *Writers) Stop() error {
	close(w.done)
	w.wg.Wait()
	if err := w.first.Load(); err != nil {
		return *err
	}
	return nil
}

// MidCut is a backup source that runs Do (once) when a cut passes on its first section, then goes
// on: to kill or crash the active replica in the middle of a backup.
type MidCut struct {
	Source interface { // a backup.Source
		SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error
	}
	Do   func()
	once sync.Once
}

// SnapshotCheckpoint makes MidCut a backup.Source.
func (s *MidCut) SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	return s.Source.SnapshotCheckpoint(ctx, name, header, func(sec *engine.SnapshotSection) error {
		s.once.Do(s.Do)
		return section(sec)
	})
}
