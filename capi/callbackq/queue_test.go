package callbackq

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func readable(t *testing.T, q *Queue) bool {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(q.FD()), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	require.NoError(t, err)
	return n == 1 && fds[0].Revents&unix.POLLIN != 0
}

func TestFDIsReadableExactlyWhileCallbacksArePending(t *testing.T) {
	q, err := New()
	require.NoError(t, err)
	defer q.Close()
	require.Less(t, q.FD(), 1024)
	require.False(t, readable(t, q))
	var got []int
	for i := 0; i < 3; i++ {
		require.NoError(t, q.Push(func() { got = append(got, i) }))
	}
	require.True(t, readable(t, q))
	q.DispatchOne()
	require.Equal(t, []int{0}, got)
	require.True(t, readable(t, q))
	q.DispatchAll()
	require.Equal(t, []int{0, 1, 2}, got)
	require.False(t, readable(t, q))
	q.DispatchOne() // empty: nothing happens
	require.Equal(t, 0, q.Pending())
}

func TestDispatchAllRunsOnlyWhatWasPending(t *testing.T) {
	q, err := New()
	require.NoError(t, err)
	defer q.Close()
	n := 0
	var again func()
	again = func() { n++; _ = q.Push(again) }
	require.NoError(t, q.Push(again))
	q.DispatchAll()
	require.Equal(t, 1, n)
	require.Equal(t, 1, q.Pending())
}

func TestDispatchBlockingEndsAtClose(t *testing.T) {
	q, err := New()
	require.NoError(t, err)
	var mu sync.Mutex
	ran := 0
	done := make(chan struct{})
	go func() { q.DispatchBlocking(); close(done) }()
	for i := 0; i < 5; i++ {
		require.NoError(t, q.Push(func() { mu.Lock(); ran++; mu.Unlock() }))
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return ran == 5 }, 5*time.Second, time.Millisecond)
	q.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("DispatchBlocking did not return after Close")
	}
	require.ErrorIs(t, q.Push(func() {}), ErrClosed)
}

func TestCloseFromInsideACallbackEndsBlockingDispatch(t *testing.T) {
	q, err := New()
	require.NoError(t, err)
	require.NoError(t, q.Push(q.Close))
	done := make(chan struct{})
	go func() { q.DispatchBlocking(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("blocked")
	}
}
