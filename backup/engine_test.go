package backup

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/stretchr/testify/require"
)

// TestRestoreOverOpenHandleAndRestart restores over a checkpoint that a handle keeps open: the
// handle goes on reading the old content, a new open gets the new one, and the data directory
// reopens cleanly afterwards, with the restored content under the name.
func TestRestoreOverOpenHandleAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(dir, "store")})
	require.NoError(t, err)
	ar := openArchive(t, filepath.Join(dir, "backups"))
	m := New(l, ar)
	const nsec = 4
	ck := counterCheckpoint(t, l, "c", nsec)
	require.NoError(t, counterWrite(ctx, ck, nsec, 7))
	backupOne(t, m, "c", "seven", CompressNone)
	require.NoError(t, counterWrite(ctx, ck, nsec, 8))

	r, err := m.Restore(ctx, RestoreRequest{BackupName: "seven", Replace: true, Flags: ckpt.OpenRead})
	require.NoError(t, err)
	vals, err := readCounters(ctx, ck, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(8), vals[0], "the old handle keeps the old content")
	vals, err = readCounters(ctx, r, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(7), vals[0])
	require.NoError(t, r.Close())

	// Close the service with the old handle still open, as a dying process would leave it.
	require.NoError(t, l.Close())
	l2 := openLocal(t, filepath.Join(dir, "store"))
	ck2, err := l2.Open(ctx, "c", nil, ckpt.OpenRead)
	require.NoError(t, err)
	defer ck2.Close()
	vals, err = readCounters(ctx, ck2, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(7), vals[0])
}

// TestBackupDoesNotHoldWriters: while a backup's cut is open (the archive stalls, the pipeline is
// full, so the cut waits in the middle of the checkpoint), a write to every section completes; the
// copy still restores the state of the cut, not the write. On the durable store and on the memory
// store, whose views used to hold its lock to the end of the cut.
func TestBackupDoesNotHoldWriters(t *testing.T) {
	for _, volatile := range []bool{false, true} {
		t.Run(map[bool]string{false: "badger", true: "memory"}[volatile], func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			o := engine.Options{Dir: filepath.Join(dir, "store")}
			if volatile {
				o = engine.Options{Store: store.NewMemory()}
			}
			l, err := engine.OpenLocal(o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = l.Close() })
			const n = 60 // 15 MiB: more than the chunks a backup has in flight
			makeRandom(t, l, "c", n, 256<<10)
			ck, err := l.Open(ctx, "c", nil, ckpt.OpenRead|ckpt.OpenWrite)
			require.NoError(t, err)
			defer ck.Close()
			require.NoError(t, counterWrite(ctx, ck, n, 7))

			ar := &pausedArchive{Dir: openArchive(t, filepath.Join(dir, "backups")), paused: make(chan struct{}), resume: make(chan struct{})}
			var release sync.Once
			resume := func() { release.Do(func() { close(ar.resume) }) }
			defer resume() // before the handle's close, also when the test fails
			j, err := New(l, ar).Start(ctx, Request{Items: []Item{{Checkpoint: "c", BackupName: "b"}}})
			require.NoError(t, err)
			<-ar.paused
			wrote := make(chan error, 1)
			go func() { wrote <- counterWrite(ctx, ck, n, 8) }()
			select {
			case err := <-wrote:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				t.Fatal("a write waited for the backup")
			}
			resume()
			_, err = j.Wait(ctx)
			require.NoError(t, err)

			r, err := New(l, ar.Dir).Restore(ctx, RestoreRequest{BackupName: "b", Target: "copy", Flags: ckpt.OpenRead})
			require.NoError(t, err)
			defer r.Close()
			vals, err := readCounters(ctx, r, n)
			require.NoError(t, err)
			for i, v := range vals {
				require.Equal(t, uint64(7), v, "section %d of the copy", i)
			}
			vals, err = readCounters(ctx, ck, n)
			require.NoError(t, err)
			for i, v := range vals {
				require.Equal(t, uint64(8), v, "section %d of the checkpoint", i)
			}
		})
	}
}
