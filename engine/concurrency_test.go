package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestThirtyTwoGoroutinesOnOneCheckpoint mixes every kind of call from 32 goroutines on one
// checkpoint, through a handle each and through one shared handle, then checks that every
// goroutine's last acknowledged value is what the checkpoint holds.
func TestThirtyTwoGoroutinesOnOneCheckpoint(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		const workers, rounds = 32, 60
		a := attrs(workers*2 + 1)
		a.Flags = Distributed | WriteActiveReplica
		shared := e.create("c", a)
		var mu sync.Mutex
		updates := 0
		require.NoError(t, shared.Subscribe(func(u Update) { mu.Lock(); updates++; mu.Unlock() }))

		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own, err := e.Open(bg, "c", nil, OpenRead|OpenWrite)
				if err != nil {
					errs <- err
					return
				}
				defer own.Close()
				mine := sec(fmt.Sprintf("w%02d", w))
				scratch := sec(fmt.Sprintf("x%02d", w))
				if _, err := own.CreateSection(bg, mine, Never, make([]byte, 8)); err != nil {
					errs <- err
					return
				}
				for i := 0; i < rounds; i++ {
					h := own
					if i%2 == 0 {
						h = shared
					}
					val := binary.BigEndian.AppendUint64(nil, uint64(i))
					steps := []func() error{
						func() error { return h.Overwrite(bg, mine, val) },
						func() error {
							return h.Write(bg, []WriteElement{{SectionID: mine, Data: val[:4]}, {SectionID: mine, Offset: 4, Data: val[4:]}})
						},
						func() error {
							el := []ReadElement{{SectionID: mine, Buffer: make([]byte, 8)}}
							if err := h.Read(bg, el); err != nil {
								return err
							}
							if got := binary.BigEndian.Uint64(el[0].Buffer); got != uint64(i) {
								return fmt.Errorf("worker %d read %d after writing %d", w, got, i)
							}
							return nil
						},
						func() error {
							_, err := h.CreateSection(bg, scratch, time.Time{}, val)
							if err != nil {
								return err
							}
							return h.DeleteSection(bg, scratch)
						},
						func() error { _, err := h.Status(bg); return err },
						func() error {
							it, err := h.Sections(bg, SectionsAny, time.Time{})
							if err != nil {
								return err
							}
							defer it.Close()
							for {
								if _, err := it.Next(); errors.Is(err, ErrNoSections) {
									return nil
								} else if err != nil {
									return err
								}
							}
						},
						func() error { return h.Synchronize(bg) },
					}
					for _, step := range steps {
						if err := step(); err != nil {
							errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		st, err := shared.Status(bg)
		require.NoError(t, err)
		require.Equal(t, uint32(workers), st.NumberOfSections)
		require.Equal(t, uint64(workers*8), st.MemoryUsed)
		for w := 0; w < workers; w++ {
			el := []ReadElement{{SectionID: sec(fmt.Sprintf("w%02d", w))}}
			require.NoError(t, shared.Read(bg, el))
			require.Equal(t, uint64(rounds-1), binary.BigEndian.Uint64(el[0].Buffer))
		}
		require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return updates > 0 }, 10*time.Second, time.Millisecond)
	})
}
