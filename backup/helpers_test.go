package backup

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/backuptest"
	"github.com/stretchr/testify/require"
)

var testAttrs = ckpt.Attributes{Flags: ckpt.WriteAllReplicas, Retention: ckpt.RetainForever, MaxSections: 64, MaxSectionIDSize: 32}

// openLocal opens a durable Local service on dir and closes it at the end of the test.
func openLocal(t *testing.T, dir string) *engine.Local {
	t.Helper()
	l, err := engine.OpenLocal(engine.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// setup is a Local service on a fresh data directory and a directory archive under it.
func setup(t *testing.T) (*engine.Local, *Manager, *archive.Dir) {
	t.Helper()
	data := t.TempDir()
	l := openLocal(t, filepath.Join(data, "store"))
	ar := openArchive(t, filepath.Join(data, "backups"))
	return l, New(l, ar), ar
}

func openArchive(t *testing.T, dir string) *archive.Dir {
	t.Helper()
	ar, err := archive.OpenDir(dir)
	require.NoError(t, err)
	return ar
}

var (
	secID        = backuptest.SectionID
	counterWrite = backuptest.WriteCounter // v as the first 8 bytes of n sections, in one write
	readCounters = backuptest.Counters     // the first 8 bytes of n sections, in one read
)

// counterCheckpoint creates a checkpoint of n sections of 8 zero bytes, open for reading and
// writing.
func counterCheckpoint(t *testing.T, l *engine.Local, name string, n int) ckpt.Checkpoint {
	t.Helper()
	ctx := context.Background()
	ck, err := l.Open(ctx, name, &testAttrs, ckpt.OpenCreate|ckpt.OpenRead|ckpt.OpenWrite)
	require.NoError(t, err)
	for i := range n {
		_, err := ck.CreateSection(ctx, secID(i), ckpt.Never, make([]byte, 8))
		require.NoError(t, err)
	}
	return ck
}

// counterWriters runs one writer per handle in cks, each writing ever higher counters (taken from
// counter) into n sections, until the returned stop is called; stop returns the first error.
func counterWriters(ctx context.Context, cks []ckpt.Checkpoint, n int, counter *atomic.Uint64) (stop func() error) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	var firstErr atomic.Value
	for _, ck := range cks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := counterWrite(ctx, ck, n, counter.Add(1)); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	return func() error {
		close(done)
		wg.Wait()
		err, _ := firstErr.Load().(error)
		return err
	}
}

// content is everything a restore must reproduce of a checkpoint.
type content struct {
	Status   ckpt.Status
	Sections []ckpt.SectionDescriptor
	Data     map[string][]byte
}

func readContent(t *testing.T, ck ckpt.Checkpoint) content {
	t.Helper()
	ctx := context.Background()
	st, err := ck.Status(ctx)
	require.NoError(t, err)
	c := content{Status: st, Data: map[string][]byte{}}
	it, err := ck.Sections(ctx, ckpt.SectionsAny, time.Now())
	require.NoError(t, err)
	defer it.Close()
	for {
		d, err := it.Next()
		if err != nil {
			require.ErrorIs(t, err, ckpt.ErrNoSections)
			break
		}
		c.Sections = append(c.Sections, d)
		els := []ckpt.ReadElement{{SectionID: d.ID}}
		require.NoError(t, ck.Read(ctx, els))
		c.Data[string(d.ID)] = els[0].Buffer[:els[0].ReadSize]
	}
	sort.Slice(c.Sections, func(i, j int) bool { return bytes.Compare(c.Sections[i].ID, c.Sections[j].ID) < 0 })
	return c
}

func backupOne(t *testing.T, m *Manager, ckpt, name string, comp Compression) Descriptor {
	t.Helper()
	ctx := context.Background()
	j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: ckpt, BackupName: name}}, Compression: comp})
	require.NoError(t, err)
	ds, err := j.Wait(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0]
}
