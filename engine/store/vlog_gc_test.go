package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
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

// TestLargeWritesWaitForTheGarbageCount: a batch of a megabyte or more (committed to Badger
// directly, not through the write-ahead log) that comes while the collector refreshes the garbage
// counts waits for the refresh and succeeds. Badger refuses every write while a DropPrefix runs
// (ErrBlockedWrites), which failed such writes with a storage error; on a loaded host the refresh
// lasts long enough for a run of large writes to meet it.
func TestLargeWritesWaitForTheGarbageCount(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), ValueLogFileSize: 16 << 20, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	var wg sync.WaitGroup
	defer wg.Wait() // before Close, also when the test fails
	refreshing := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		for range 20 {
			if err = s.refreshDiscard(); err != nil {
				break
			}
		}
		refreshing <- err
	}()
	value := make([]byte, bulkBatch)
	for i := 0; ; i++ {
		select {
		case err := <-refreshing:
			require.NoError(t, err)
			require.Greater(t, i, 0)
			return
		default:
		}
		var b Batch
		b.Set(fmt.Appendf(nil, "d%d", i%4), value)
		require.NoError(t, s.Apply(&b), "write %d", i)
	}
}
