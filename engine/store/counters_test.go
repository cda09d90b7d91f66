package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCountersCountTheStoresWork: the counters see the commits, a refresh of the garbage counts
// and the memtable flush and level-0 compaction it makes Badger run (counted from Badger's debug
// log, so a Badger whose messages changed fails here rather than reporting zeros).
func TestCountersCountTheStoresWork(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), ValueLogFileSize: 16 << 20, MemTableSize: 1 << 20, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	before := s.Counters()
	value := make([]byte, 64<<10)
	for i := range 2 {
		var b Batch
		for k := range 32 { // 2 MiB: a bulk batch, committed at once
			b.Set(fmt.Appendf(nil, "k%d", k), value)
		}
		require.NoError(t, s.Apply(&b), "batch %d", i)
	}
	require.NoError(t, s.refreshDiscard())
	c := s.Counters().Sub(before)
	require.GreaterOrEqual(t, c.Commits, int64(2), "%+v", c)
	require.Equal(t, int64(2*32*len(value)), c.CommitBytes, "%+v", c)
	require.Positive(t, c.CommitTime, "%+v", c)
	require.Equal(t, int64(1), c.GCRefreshes, "%+v", c)
	require.GreaterOrEqual(t, c.Flushes, int64(1), "%+v", c)
	require.GreaterOrEqual(t, c.L0Compacts, int64(1), "%+v", c)
}
