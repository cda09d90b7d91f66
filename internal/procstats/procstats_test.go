package procstats

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadCountsWhatTheProcessHolds(t *testing.T) {
	runtime.GC() // the live heap is known from the first GC on
	before := Read()
	require.Positive(t, before.RSS)
	require.Positive(t, before.RSSAnon)
	require.Positive(t, before.Threads)
	require.LessOrEqual(t, before.RSSAnon, before.RSS)
	require.Positive(t, before.HeapLive)
	require.Greater(t, before.GoHeld, before.HeapLive, "the runtime holds the live heap and more")
	f, err := os.Open(os.Args[0])
	require.NoError(t, err)
	stop := make(chan struct{})
	go func() { <-stop }()
	during := Read()
	require.Equal(t, before.FDs+1, during.FDs)
	require.GreaterOrEqual(t, during.Goroutines, before.Goroutines+1)
	f.Close()
	close(stop)
	require.Eventually(t, func() bool { return Read().FDs == before.FDs }, 5*time.Second, 10*time.Millisecond)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartLogsALineEveryIntervalUntilStopped(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	stop := Start(20*time.Millisecond, false, log, func() []slog.Attr { return []slog.Attr{slog.Int("handles", 7)} })
	line := regexp.MustCompile(`msg=stats goroutines=\d+ own_goroutines=\d+ heap_live=\d+ go_held=[1-9]\d* rss=[1-9]\d* rss_anon=[1-9]\d* fds=\d+ threads=[1-9]\d* handles=7\n`)
	require.Eventually(t, func() bool { return len(line.FindAllString(out.String(), -1)) >= 3 },
		10*time.Second, 10*time.Millisecond)
	stop()
	stop() // twice is harmless
	n := len(out.String())
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, n, len(out.String()), "no line after stop")
}

// TestCountGoroutinesSeesTheProcesssOwn: goroutines started count in both counts (the C threads
// that call in, left out of the own count, are exercised by the soak's member processes).
func TestCountGoroutinesSeesTheProcesssOwn(t *testing.T) {
	all0, own0 := CountGoroutines()
	require.Positive(t, own0)
	require.GreaterOrEqual(t, all0, own0)
	stop := make(chan struct{})
	var started sync.WaitGroup
	for range 25 {
		started.Add(1)
		go func() { started.Done(); <-stop }()
	}
	started.Wait()
	all1, own1 := CountGoroutines()
	close(stop)
	// Within one: a goroutine of an earlier test or of the runtime's tools may end meanwhile.
	require.InDelta(t, own0+25, own1, 1, "own: %d then %d", own0, own1)
	require.InDelta(t, all0+25, all1, 1, "all: %d then %d", all0, all1)
}

// TestCollectLeavesOnlyWhatIsRetained: a buffer that only a sync.Pool keeps counts as live after a
// garbage collection (the pool keeps it through one), and no longer after Collect.
func TestCollectLeavesOnlyWhatIsRetained(t *testing.T) {
	var pool sync.Pool
	kept := false
	for range 20 { // the race detector makes Put drop one item in four at random
		pool.Put(make([]byte, 64<<20))
		runtime.GC()
		if kept = Read().HeapLive > 64<<20; kept {
			break
		}
	}
	require.True(t, kept, "the pooled buffer is live after one collection")
	Collect()
	require.Less(t, Read().HeapLive, uint64(64<<20), "and gone after Collect")
	runtime.KeepAlive(&pool)

	var out syncBuffer
	stop := Start(20*time.Millisecond, true, slog.New(slog.NewTextHandler(&out, nil)), nil)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "msg=stats") }, 10*time.Second, 10*time.Millisecond)
	stop()
}
