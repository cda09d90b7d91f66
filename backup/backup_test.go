package backup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/stretchr/testify/require"
)

// makeCheckpoint creates a checkpoint with sections of several sizes and expirations.
func makeCheckpoint(t *testing.T, l *engine.Local, name string) ckpt.Checkpoint {
	t.Helper()
	ctx := context.Background()
	ck, err := l.Open(ctx, name, &testAttrs, ckpt.OpenCreate|ckpt.OpenRead|ckpt.OpenWrite)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ck.Close() })
	exp := time.Now().Add(24 * time.Hour)
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // over one chunk
	_, err = ck.CreateSection(ctx, []byte("big"), ckpt.Never, big)
	require.NoError(t, err)
	_, err = ck.CreateSection(ctx, []byte("expiring"), exp, []byte("soon"))
	require.NoError(t, err)
	_, err = ck.CreateSection(ctx, []byte("tiny"), ckpt.Never, []byte{0})
	require.NoError(t, err)
	gen, err := ck.CreateSection(ctx, nil, ckpt.Never, []byte("generated"))
	require.NoError(t, err)
	require.NotEmpty(t, gen)
	return ck
}

func TestBackupRestoreExact(t *testing.T) {
	for _, comp := range []Compression{CompressNone, CompressZstd} {
		t.Run(map[Compression]string{CompressNone: "plain", CompressZstd: "zstd"}[comp], func(t *testing.T) {
			ctx := context.Background()
			l, m, _ := setup(t)
			ck := makeCheckpoint(t, l, "orig")
			want := readContent(t, ck)
			d := backupOne(t, m, "orig", "b1", comp)
			require.NotZero(t, d.CopyID)
			require.Equal(t, "orig", d.Checkpoint)
			require.Equal(t, MostRecent, d.Status)
			require.Len(t, d.Digest, 64)
			if comp == CompressZstd {
				require.Less(t, d.Size, int64(1<<20), "the repetitive data compresses")
			}
			j := m.StartRestore(ctx, RestoreRequest{BackupName: "b1", Target: "copy", Flags: ckpt.OpenRead})
			r, err := j.Wait(ctx)
			require.NoError(t, err)
			defer r.Close()
			require.Equal(t, d.Size, j.BytesRead())
			got := readContent(t, r)
			require.Equal(t, want, got)
		})
	}
}

// TestBackupUnderWriters takes a backup while 32 writers each write one counter into every section
// in one multi-section write: the copy is a cut, so every section of the restored checkpoint holds
// the same counter.
func TestBackupUnderWriters(t *testing.T) {
	ctx := context.Background()
	l, m, _ := setup(t)
	const nsec = 16
	ck := counterCheckpoint(t, l, "inv", nsec)
	defer ck.Close()
	var counter atomic.Uint64
	cks := make([]ckpt.Checkpoint, 32)
	for i := range cks {
		cks[i] = ck
	}
	stop := counterWriters(ctx, cks, nsec, &counter)
	// Wait for writes to be under way, then take several backups during them.
	require.Eventually(t, func() bool { return counter.Load() > 200 }, time.Minute, time.Millisecond)
	var names []string
	for i := range 4 {
		name := fmt.Sprintf("w%d", i)
		backupOne(t, m, "inv", name, CompressZstd)
		names = append(names, name)
	}
	require.NoError(t, stop())
	for _, name := range names {
		r, err := m.Restore(ctx, RestoreRequest{BackupName: name, Target: "r-" + name, Flags: ckpt.OpenRead})
		require.NoError(t, err)
		vals, err := readCounters(ctx, r, nsec)
		require.NoError(t, err)
		for i := range vals {
			require.Equal(t, vals[0], vals[i], "backup %s section %d", name, i)
		}
		require.NotZero(t, vals[0])
		require.NoError(t, r.Close())
	}
}

// TestRestoreRefusesDamage flips one byte anywhere in the object, truncates it, or replaces it
// with a foreign file: the restore fails with ErrDamaged and creates nothing.
func TestRestoreRefusesDamage(t *testing.T) {
	ctx := context.Background()
	l, m, ar := setup(t)
	makeCheckpoint(t, l, "orig")
	d := backupOne(t, m, "orig", "b1", CompressZstd)
	path := filepath.Join(ar.Root(), filepath.FromSlash(dataName(d.CopyID)))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	damage := map[string][]byte{}
	for _, at := range []int{0, 9, 50, len(good) / 2, len(good) - 40, len(good) - 1} {
		b := bytes.Clone(good)
		b[at] ^= 0x01
		damage[fmt.Sprintf("flip at %d", at)] = b
	}
	damage["truncated"] = good[:len(good)-100]
	damage["foreign"] = []byte("this is not a backup\n")
	damage["empty"] = nil
	for what, b := range damage {
		require.NoError(t, os.WriteFile(path, b, 0o600))
		_, err := m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy"})
		require.ErrorIs(t, err, ErrDamaged, what)
		_, err = l.Open(ctx, "copy", nil, ckpt.OpenRead)
		require.ErrorIs(t, err, ckpt.ErrNotExist, what)
	}
	require.NoError(t, os.WriteFile(path, good, 0o600))
	r, err := m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy"})
	require.NoError(t, err)
	require.NoError(t, r.Close())
}

// TestForeignCatalogFile: a file dropped among the catalogue records stops queries with an error
// naming it, instead of a guess.
func TestForeignCatalogFile(t *testing.T) {
	ctx := context.Background()
	l, m, ar := setup(t)
	makeCheckpoint(t, l, "orig")
	backupOne(t, m, "orig", "b1", CompressNone)
	require.NoError(t, os.WriteFile(filepath.Join(ar.Root(), "catalog", "notes.json"), []byte(`{"hello":1}`), 0o600))
	_, err := m.Query(ctx, Query{})
	require.ErrorIs(t, err, ErrDamaged)
	require.ErrorContains(t, err, "catalog/notes.json")
}

// TestRestoreOverWhileReading restores over a checkpoint again and again while a reader opens it
// and reads every section in one read: it sees all-old or all-new, never a mix.
func TestRestoreOverWhileReading(t *testing.T) {
	ctx := context.Background()
	l, m, _ := setup(t)
	const nsec = 8
	ck := counterCheckpoint(t, l, "c", nsec)
	require.NoError(t, counterWrite(ctx, ck, nsec, 1))
	backupOne(t, m, "c", "one", CompressNone)
	require.NoError(t, counterWrite(ctx, ck, nsec, 2))
	backupOne(t, m, "c", "two", CompressNone)
	require.NoError(t, ck.Close())

	stop := make(chan struct{})
	var reads atomic.Int64
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			for {
				select {
				case <-stop:
					return nil
				default:
				}
				r, err := l.Open(ctx, "c", nil, ckpt.OpenRead)
				if err != nil {
					return err
				}
				vals, err := readCounters(ctx, r, nsec)
				_ = r.Close()
				if err != nil {
					return err
				}
				for i := range vals {
					if vals[i] != vals[0] {
						return &mixErr{vals}
					}
				}
				reads.Add(1)
			}
		}()
	}()
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < 20 || reads.Load() < 200 && time.Now().Before(deadline); i++ {
		name := []string{"one", "two"}[i%2]
		r, err := m.Restore(ctx, RestoreRequest{BackupName: name, Replace: true, Flags: ckpt.OpenRead})
		require.NoError(t, err)
		vals, err := readCounters(ctx, r, nsec)
		require.NoError(t, err)
		require.Equal(t, uint64(i%2+1), vals[0])
		require.NoError(t, r.Close())
	}
	close(stop)
	require.NoError(t, <-errc)
	require.Positive(t, reads.Load())

	// Without Replace, or with other attributes, the existing checkpoint stays.
	_, err := m.Restore(ctx, RestoreRequest{BackupName: "one"})
	require.ErrorIs(t, err, ckpt.ErrAlreadyExist)
	other := testAttrs
	other.MaxSections = 9
	ck2, err := l.Open(ctx, "d", &other, ckpt.OpenCreate|ckpt.OpenWrite)
	require.NoError(t, err)
	defer ck2.Close()
	_, err = m.Restore(ctx, RestoreRequest{BackupName: "one", Target: "d", Replace: true})
	require.ErrorIs(t, err, ckpt.ErrAlreadyExist)
}

type mixErr struct{ vals []uint64 }

func (e *mixErr) Error() string { return "reader saw a mix of contents" }
