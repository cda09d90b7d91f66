package store

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dirtyIn returns the dirty bytes of this process's mappings of the files under dir
// (/proc/self/smaps: Shared_Dirty and Private_Dirty).
func dirtyIn(t *testing.T, dir string) int64 {
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	var dirty int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"): // a mapping's first line
			in = len(fields) == 6 && strings.HasPrefix(fields[5], dir+string(filepath.Separator))
		case in && len(fields) == 3 && (fields[0] == "Shared_Dirty:" || fields[0] == "Private_Dirty:"):
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			require.NoError(t, err)
			dirty += kb << 10
		}
	}
	require.NoError(t, sc.Err())
	return dirty
}

// TestTheValueLogIsWrittenBackAsItGrows: 48 MiB of values (less than a value-log file) written in
// bulk batches do not stay dirty in memory until the file is closed: the store has the kernel
// start writing them out every writebackEvery bytes, so once the writes are done at most a
// couple of writebackEvery of the value log are still dirty. Before, all 48 MiB were (the kernel
// writes dirty pages by itself only after 30 s, or past a share of memory), and closing the file
// wrote them out while every commit waited.
func TestTheValueLogIsWrittenBackAsItGrows(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Fatalf("this test reads /proc/self/smaps: %v", err)
	}
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir, GCInterval: -1}) // 64 MiB value-log files
	require.NoError(t, err)
	defer s.Close()
	value := make([]byte, 64<<10)
	const total = 48 << 20
	for i := range total / (4 << 20) {
		var b Batch
		for k := range 64 { // 4 MiB, as an install writes
			value[0], value[1] = byte(i), byte(k)
			b.Set(fmt.Appendf(nil, "d%d-%d", i, k), value)
		}
		require.NoError(t, s.Apply(&b))
	}
	// The writebacks run on a goroutine of their own: wait for one that started after the last
	// write. Kicks that come while one is pending are one (a loaded machine merges some), so
	// there are at most one per writebackEvery, and at least one per file.
	deadline := time.Now().Add(20 * time.Second)
	for s.Counters().WrittenBack < total && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c := s.Counters()
	require.GreaterOrEqual(t, c.WrittenBack, int64(total), "a writeback started after the last write")
	require.GreaterOrEqual(t, c.Writebacks, int64(1))
	require.LessOrEqual(t, c.Writebacks, int64(total/writebackEvery), "writebacks started for %d MiB of values", total>>20)
	dirty := dirtyIn(t, dir)
	t.Logf("dirty in the store's mappings: %.1f MiB of %d MiB written", float64(dirty)/(1<<20), total>>20)
	require.Less(t, dirty, int64(2*writebackEvery), "bytes of the store's files still dirty")
}
