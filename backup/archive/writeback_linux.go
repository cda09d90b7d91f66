package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing out the n bytes of f from off, without waiting
// for them: a large object's final fsync then has little left to write, most of it written while
// the rest of the object was being made.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
