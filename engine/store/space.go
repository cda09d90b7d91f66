package store

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Disk space. Badger writes its value log, its memtable log and its tables through memory maps of
// sparse files: when the filesystem is full, the page fault of such a write raises SIGBUS, which
// kills the process (a Go program, or the C program hosting the library). The write-ahead log is
// written with write(2) and gets ENOSPC instead. So the store keeps Badger away from a full
// filesystem:
//
//   - Apply refuses a batch (ErrDiskFull, nothing logged, nothing acknowledged) when the data
//     directory's filesystem would keep less than the reserve free;
//   - the applier commits to Badger only while at least half the reserve is free; below that it
//     holds, and the batches stay in the log (and visible to Get) until space returns;
//   - Badger is opened, closed (its close writes the memtable out) and garbage-collected only with
//     that half of the reserve free.
//
// What this guarantees: the store's own growth never fills the filesystem under Badger, so it never
// makes Badger fault; a batch is acknowledged only once it is in the log, and the log is emptied
// only when Badger holds everything in it. What it cannot guarantee: another process that takes the
// last half of the reserve in the moments one Badger write lasts (a commit, a memtable flush) still
// makes that write fault. The reserve is the margin against that race.

// ErrDiskFull is returned by Apply when the data directory's filesystem has less free space than
// the reserve (or the log got ENOSPC). Nothing of the batch was applied; it may be retried once space
// is freed.
var ErrDiskFull = errors.New("store: the data directory's filesystem is full")

// DefaultReserve is the free space Apply keeps on the data directory's filesystem by default.
const DefaultReserve = 64 << 20

// MinReserve is the smallest reserve: half of it must hold a memtable flush (8 MiB) with room to spare.
const MinReserve = 24 << 20

// freeSpace returns the bytes of dir's filesystem available to this process.
func freeSpace(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("store: statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// fullError describes a refusal for lack of space.
func fullError(dir string, free, need int64) error {
	return fmt.Errorf("%w: %s: %.1f MiB free, %.1f MiB must stay free", ErrDiskFull, dir, mib(free), mib(need))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func isENOSPC(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// space tracks the free space of the data directory's filesystem. statfs is cheap but not free: it
// is asked again once 256 KiB were written or 50 ms passed since the last answer, and in between
// the answer is lowered by twice what was written (the log, then Badger).
type space struct {
	mu      sync.Mutex
	dir     string
	reserve int64
	free    int64     // at the last statfs
	written int64     // bytes applied since
	at      time.Time // of the last statfs
}

const (
	spaceRecheckBytes = 256 << 10
	spaceRecheckAge   = 50 * time.Millisecond
)

// check returns nil if n more bytes leave at least the reserve free (half of it for a batch that
// frees space: see Badger.refuse).
func (s *space) check(n int64, freeing bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written+n > spaceRecheckBytes || time.Since(s.at) > spaceRecheckAge {
		free, err := freeSpace(s.dir)
		if err != nil {
			return err
		}
		s.free, s.written, s.at = free, 0, time.Now()
	}
	reserve := s.reserve
	if freeing {
		reserve /= 2
	}
	if left := s.free - 2*(s.written+n); left < reserve {
		return fullError(s.dir, left+2*n, reserve+2*n)
	}
	s.written += n
	return nil
}

// forget makes the next check ask statfs.
func (s *space) forget() {
	s.mu.Lock()
	s.at = time.Time{}
	s.mu.Unlock()
}

// enough reports whether at least half the reserve plus n bytes is free now (a fresh statfs): the
// condition for letting Badger write n bytes.
func (s *space) enough(n int64) (bool, int64) {
	free, err := freeSpace(s.dir)
	if err != nil {
		return false, 0
	}
	return free >= s.reserve/2+n, free
}

// SpaceLeft returns ErrDiskFull (wrapped, with the numbers) when the data directory's filesystem has
// less than the reserve free: a write would be refused.
func (b *Badger) SpaceLeft() error {
	if b.full != nil {
		return b.full
	}
	return b.space.check(0, false)
}
