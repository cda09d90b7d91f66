package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tmpfs mounts a tmpfs of mib MiB for the test (root only: the test fails otherwise, it is not
// skipped).
func tmpfs(t *testing.T, mib int) string {
	t.Helper()
	require.Zero(t, os.Geteuid(), "mounting a tmpfs needs root")
	dir := filepath.Join(t.TempDir(), "fs")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", mib)))
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestOverwritesAreNotRefusedForTheirGarbage: four values of 256 KiB overwritten without pause on a
// 48 MiB filesystem with the smallest reserve (24 MiB), where the garbage of a few value-log files
// reaches the reserve: the writes wait for the collector, and none is refused for lack of space
// (the live data, 1 MiB, fits many times over). Before, a write that found the space taken by
// garbage was refused at once, while the collector it woke was still to run.
func TestOverwritesAreNotRefusedForTheirGarbage(t *testing.T) {
	dir := tmpfs(t, 48)
	s, err := OpenBadger(BadgerOptions{Dir: dir, ValueLogFileSize: 4 << 20, MemTableSize: 1 << 20, Reserve: MinReserve, GCInterval: time.Hour})
	require.NoError(t, err)
	defer s.Close()
	value := make([]byte, 256<<10)
	refused := 0
	for i := range 4000 { // 1000 MiB
		value[0], value[1] = byte(i), byte(i>>8)
		var b Batch
		b.Set(fmt.Appendf(nil, "d%d", i%4), value)
		if err := s.Apply(&b); errors.Is(err, ErrDiskFull) {
			refused++
		} else {
			require.NoError(t, err)
		}
	}
	t.Logf("%d of 4000 writes refused", refused)
	require.Zero(t, refused, "writes refused for lack of space, of 4000")
}

// fill takes every free byte of dir's filesystem with a file, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return path
		}
	}
}

// TestAFullStoreOpensReadOnly: a store whose filesystem is full opens read-only: reads return what
// was acknowledged (what Badger holds and what only its write-ahead log holds: a crash, or a close
// that could not flush), writes fail at once with ErrDiskFull, and once space is back the next
// open is writable again with the same data. Before, the open failed with ErrDiskFull.
func TestAFullStoreOpensReadOnly(t *testing.T) {
	fs := tmpfs(t, 48)
	dir := filepath.Join(fs, "store")
	opts := BadgerOptions{Dir: dir, MemTableSize: 1 << 20, Reserve: MinReserve}
	s, err := OpenBadger(opts)
	require.NoError(t, err)
	bulk := make([]byte, bulkBatch)
	var b Batch
	b.Set([]byte("a"), []byte("1"))
	b.Set([]byte("b"), bulk)
	b.Set([]byte("d"), []byte("4"))
	require.NoError(t, s.Apply(&b))
	require.NoError(t, s.Close())
	s, err = OpenBadger(opts)
	require.NoError(t, err)
	b = Batch{}
	b.Delete([]byte("a"))
	b.Set([]byte("c"), []byte("3"))
	b.Set([]byte("b"), []byte("2"))
	require.NoError(t, s.Apply(&b))
	ballast := fill(t, fs)
	require.ErrorIs(t, s.Close(), ErrDiskFull, "a close without room to flush Badger")
	// That close left Badger open (as a crash would, in a process that exits) and the log as it
	// was: let Badger go, with room for its flush, and fill the filesystem again.
	require.NoError(t, os.Remove(ballast))
	require.NoError(t, s.db.Close())
	ballast = fill(t, fs)
	require.NotZero(t, s.wal.size, "the log after a close without room")
	want := map[string]string{"b": "2", "c": "3", "d": "4"}
	read := func(s *Badger) {
		t.Helper()
		got := map[string]string{}
		var order []string
		require.NoError(t, s.Scan(nil, func(k, v []byte) error {
			got[string(k)] = string(v)
			order = append(order, string(k))
			return nil
		}))
		require.Equal(t, want, got)
		require.Equal(t, []string{"b", "c", "d"}, order)
		require.ErrorIs(t, s.Get([]byte("a"), func([]byte) error { return nil }), ErrNotFound)
		require.NoError(t, s.Get([]byte("c"), func(v []byte) error { require.Equal(t, "3", string(v)); return nil }))
	}

	s, err = OpenBadger(opts)
	require.NoError(t, err, "open on a full filesystem")
	read(s)
	b = Batch{}
	b.Set([]byte("e"), []byte("5"))
	require.ErrorIs(t, s.Apply(&b), ErrDiskFull)
	require.ErrorIs(t, s.SpaceLeft(), ErrDiskFull)
	require.NoError(t, s.Close())

	require.NoError(t, os.Remove(ballast))
	s, err = OpenBadger(opts)
	require.NoError(t, err)
	read(s)
	require.NoError(t, s.Apply(&b))
	require.NoError(t, s.Close())
}
