package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRewrittenLargeValuesDoNotFillTheDisk: four values of 256 KiB rewritten again and again (40
// value-log files' worth) leave a handful of value-log files, not twenty or forty: the collector
// makes Badger count the garbage, which it would not do on its own while its memtable, holding
// only pointers to the values, seldom fills. What is read back is the last value written, and the
// collector's ballast never shows in a scan.
// The test runs the collector itself, between rounds of writes: Badger's value-log rewrite reads
// the memtable's newest version without the writers' lock (value.go, rewrite -> MaxVersion), which
// the race detector reports when writes run meanwhile (the value read can only be older, which
// makes the rewrite keep more deletions: harmless).
func TestRewrittenLargeValuesDoNotFillTheDisk(t *testing.T) {
	dir := t.TempDir()
	const fileSize = 4 << 20
	s, err := OpenBadger(BadgerOptions{Dir: dir, ValueLogFileSize: fileSize, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	vlogs := func() int {
		m, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
		require.NoError(t, err)
		return len(m)
	}
	value := make([]byte, 256<<10)
	const writes = 40 * fileSize / (256 << 10)
	most := 0
	for i := range writes {
		value[0], value[1] = byte(i), byte(i>>8)
		var b Batch
		b.Set(fmt.Appendf(nil, "d%d", i%4), value)
		require.NoError(t, s.Apply(&b))
		if i%(2*fileSize/len(value)) == 0 { // as often as the collector would be woken
			require.NoError(t, s.drain())
			s.collectOnce()
			most = max(most, vlogs())
		}
	}
	require.NoError(t, s.drain())
	s.collectOnce()
	require.LessOrEqual(t, vlogs(), 6, "value-log files after 40 files' worth of rewrites")
	require.LessOrEqual(t, most, 8, "value-log files at most, along the way")
	for k := range 4 {
		i := writes - 4 + k
		require.NoError(t, s.Get(fmt.Appendf(nil, "d%d", i%4), func(v []byte) error {
			require.Equal(t, []byte{byte(i), byte(i >> 8)}, v[:2], "key d%d", i%4)
			return nil
		}))
	}
	require.NoError(t, s.Scan(nil, func(k, _ []byte) error {
		require.False(t, bytes.HasPrefix(k, gcBallastPrefix), "ballast key %q in a scan", k)
		return nil
	}))
}

// TestWritesWaitForTheGarbageCount: writes that run while the collector refreshes the garbage counts
// (refreshDiscard, whose DropPrefix makes Badger refuse writes while it flushes and compacts) wait
// for it and succeed. Before, a bulk batch committed meanwhile failed with Badger's "Writes are
// blocked", and the applier's commits failed and were retried with a growing pause.
func TestWritesWaitForTheGarbageCount(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), ValueLogFileSize: 16 << 20, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		small, bulk := make([]byte, 4<<10), make([]byte, bulkBatch)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var b Batch
			b.Set(fmt.Appendf(nil, "s%d", i%8), small)
			if i%4 == 0 {
				b.Set(fmt.Appendf(nil, "b%d", i%3), bulk)
			}
			if err := s.Apply(&b); err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
		}
	}()
	for range 30 {
		require.NoError(t, s.refreshDiscard())
	}
	close(stop)
	require.NoError(t, <-errs)
	s.mu.Lock()
	failed := s.failed
	s.mu.Unlock()
	require.NoError(t, failed, "the applier's last commit")
}

// TestGarbageCountsAreRefreshedOnlyWhenSomethingWasReplaced: value-log growth by new keys only
// (as a copy's install writes, once the old replica is deleted) skips the refresh of the garbage
// counts, which would hold every commit off for a memtable flush and a compaction each time and
// find nothing; a delete or the overwrite of a key makes the next one run. Before, the collector
// refreshed the counts after every half file of growth whatever it was.
func TestGarbageCountsAreRefreshedOnlyWhenSomethingWasReplaced(t *testing.T) {
	const fileSize = 4 << 20
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), ValueLogFileSize: fileSize, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	value := make([]byte, 64<<10)
	n := 0
	grow := func(extra func(b *Batch)) { // half a file of new keys, then a run of the collector
		var b Batch
		for range fileSize / 2 / len(value) {
			b.Set(fmt.Appendf(nil, "new%d", n), value)
			n++
		}
		if extra != nil {
			extra(&b)
		}
		require.NoError(t, s.Apply(&b))
		require.NoError(t, s.drain())
		s.collectOnce()
	}
	refreshes := func() int64 { return s.Counters().GCRefreshes }
	grow(nil) // the history before the open is unknown: counted
	require.Equal(t, int64(1), refreshes())
	for range 3 {
		grow(nil)
	}
	require.Equal(t, int64(1), refreshes(), "refreshes after growth by new keys only")
	require.Equal(t, int64(3), s.Counters().GCSkipped)
	grow(func(b *Batch) { b.Set([]byte("new0"), value) }) // an overwrite
	require.Equal(t, int64(2), refreshes(), "refreshes after an overwrite")
	grow(nil)
	require.Equal(t, int64(2), refreshes())
	grow(func(b *Batch) { b.Delete([]byte("new1")) })
	require.Equal(t, int64(3), refreshes(), "refreshes after a delete")
	grow(func(b *Batch) { b.Set([]byte("new2"), []byte("small")) }) // a small value over a large one
	require.Equal(t, int64(4), refreshes(), "refreshes after a small value replaced a large one")
}

// TestACopyReplacedByANewOneIsCollected: the pattern of an install over an older copy (every key
// deleted, then written anew, the value log growing only by keys that have no value) still has the
// files of the older copy collected as the new one is written.
func TestACopyReplacedByANewOneIsCollected(t *testing.T) {
	const fileSize = 4 << 20
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir, ValueLogFileSize: fileSize, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	value := make([]byte, 64<<10)
	const keys = 3 * fileSize / (64 << 10) // three files' worth
	write := func() {
		for i := 0; i < keys; i += 16 { // 1 MiB batches, the collector after each half file
			var b Batch
			for k := i; k < i+16; k++ {
				b.Set(fmt.Appendf(nil, "d%04d", k), value)
			}
			require.NoError(t, s.Apply(&b))
			if (i/16)%2 == 1 {
				require.NoError(t, s.drain())
				s.collectOnce()
			}
		}
	}
	write()
	old := newestValueLog(dir) // the files before it hold only the first copy
	var b Batch
	for k := range keys {
		b.Delete(fmt.Appendf(nil, "d%04d", k))
	}
	require.NoError(t, s.Apply(&b))
	write()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	require.NoError(t, err)
	for _, f := range files {
		var fid int
		_, err := fmt.Sscanf(filepath.Base(f), "%06d.vlog", &fid)
		require.NoError(t, err)
		require.GreaterOrEqual(t, fid, old, "value-log files of the deleted copy left: %v", files)
	}
	require.Positive(t, s.Counters().GCSkipped, "refreshes skipped while the new copy was written")
}
