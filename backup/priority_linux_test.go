package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// niceOfThreads returns the nice value of each thread of the process (/proc/self/task/*/stat).
func niceOfThreads(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		// After the command's name: state is the 3rd field of the line, nice the 19th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		nice, err := strconv.Atoi(f[16])
		require.NoError(t, err)
		out[task.Name()] = nice
	}
	return out
}

// TestBackupHashesAtALowerPriority: a backup's chunks are hashed on threads of their own whose
// nice value is the program's plus backupNice, as many as streamWorkers, kept from one backup to
// the next; every other thread of the program keeps its nice value.
func TestBackupHashesAtALowerPriority(t *testing.T) {
	data := t.TempDir()
	l := openLocal(t, filepath.Join(data, "store"))
	makeRandom(t, l, "big", 8, 256<<10)
	runtime.LockOSThread() // the test's own thread, which a hasher never takes
	base := niceOfThreads(t)[strconv.Itoa(unix.Gettid())]
	runtime.UnlockOSThread()
	check := func() {
		t.Helper()
		lowered := 0
		for tid, nice := range niceOfThreads(t) {
			switch nice {
			case base:
			case min(base+backupNice, 19):
				lowered++
			default:
				t.Fatalf("thread %s has nice %d (the program's: %d)", tid, nice, base)
			}
		}
		require.Equal(t, streamWorkers(), lowered, "threads of lower priority")
	}
	m := New(l, openArchive(t, filepath.Join(data, "backups")))
	for i := range 3 {
		backupOne(t, m, "big", fmt.Sprintf("b%d", i), CompressNone)
		check()
	}
}
