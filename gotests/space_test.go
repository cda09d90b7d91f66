package gotests

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// diskUse is the space the files under dir take on their filesystem (allocated blocks: sparse
// files count what was written).
func diskUse(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// filesOf lists the files under dir with the space each takes, for a failure's message.
func filesOf(dir string) string {
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if rel, err := filepath.Rel(dir, path); err == nil {
				fmt.Fprintf(&b, "%s %.1f MiB; ", rel, float64(diskUse(path))/(1<<20))
			}
		}
		return nil
	})
	return b.String()
}

// TestOverwritesStayWithinTheDiskBound: a C program on the embedded default overwrites 8 sections of
// 256 KiB (2 MiB of live data) as fast as it can for 60 s, on a 256 MiB tmpfs with the default
// settings. No write fails, and the data directory (the member's store and the embedded server's
// JetStream files) never takes more than README's bound ("Sizing a disk"). Before the value-log
// files were halved and collected as the log grows by half a file, the directory filled the disk in
// seconds and every write failed with CL_CKPT_ERR_NO_SPACE from then on.
func TestOverwritesStayWithinTheDiskBound(t *testing.T) {
	fs := mountTmpfs(t, 256)
	data := fs + "/data"
	env := []string{"CLCKPT_DATA_DIR=" + data, "CLCKPT_NODE=loop", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)), "CLCKPT_LOG_LEVEL=info"}
	p := startInput(t, "loop", env, faults, "fill", "f", "256")
	p.waitLine("^ready$", 30*time.Second)
	var peakFiles string
	stop := make(chan struct{})
	most := make(chan int64)
	go func() {
		var m int64
		for {
			if u := diskUse(data); u > m {
				m = u
				peakFiles = filesOf(data)
			}
			select {
			case <-stop:
				most <- m
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	p.send("loop 60 8")
	m := p.waitLine(`^looped (\d+) (\d+)$`, 3*time.Minute)
	close(stop)
	peak := <-most
	t.Logf("at the peak: %s", peakFiles)
	t.Logf("%s overwrites of 256 KiB, %s failed; data directory at most %.1f MiB", m[1], m[2], float64(peak)/(1<<20))
	require.Equal(t, "0", m[2], "failed overwrites: %v", p.matching(`^error `))
	// README, "Sizing a disk": twice the live data plus two value-log files (64 MiB each) plus 48 MiB.
	const live, bound = 8 * 256 << 10, 2*(8*256<<10) + 2*(64<<20) + 48<<20
	require.LessOrEqual(t, peak, int64(bound), "the data directory with %d bytes of live data: %s", live, peakFiles)
	p.send("check 8")
	require.Equal(t, "verified 8", p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))
}
