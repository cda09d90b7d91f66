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
