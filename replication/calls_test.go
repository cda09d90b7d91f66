package replication

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/replication/wire"
)

// opaque is a parent context the context package does not know: each live child costs a goroutine
// that waits for it, so a child left registered shows in runtime.NumGoroutine.
type opaque struct{ context.Context }

func (opaque) Value(any) any { return nil } // hides the cancelCtx inside from the context package

// TestCallContextLeavesNothingBehind: serving a forwarded call, with or without a timeout of its
// own, leaves nothing registered on the member's context once it is cancelled (a timer left behind
// per call added up to megabytes on a busy server member).
func TestCallContextLeavesNothingBehind(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	base := runtime.NumGoroutine()
	for i := range 200 {
		call := &wire.CallMsg{}
		if i%2 == 0 {
			call.Timeout = time.Hour
		}
		_, cancel := callContext(opaque{parent}, call)
		cancel()
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= base+5 }, 5*time.Second, 10*time.Millisecond,
		"goroutines: %d, %d before", runtime.NumGoroutine(), base)
}

type ctxKey struct{}

// TestTheCallDeadlineWorksWithoutATimerUntilNeeded: a call's own deadline (callCtx) behaves as a
// context with a deadline: it expires, children derived from it end with it (without a goroutine
// each), values pass through, and ending the call cancels it.
func TestTheCallDeadlineWorksWithoutATimerUntilNeeded(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	cc := &callCtx{Context: parent, deadline: time.Now().Add(50 * time.Millisecond)}
	d, ok := cc.Deadline()
	require.True(t, ok)
	require.Equal(t, cc.deadline, d)
	require.Nil(t, cc.timed, "no timer before anyone waits")
	require.Equal(t, "v", cc.Value(ctxKey{}))

	before := runtime.NumGoroutine()
	child, cancel := context.WithTimeout(cc, time.Hour)
	defer cancel()
	require.Equal(t, before, runtime.NumGoroutine(), "the child is registered with the timer context, not watched by a goroutine")
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the child did not end with the call's deadline")
	}
	require.ErrorIs(t, cc.Err(), context.DeadlineExceeded)
	cc.end()

	// Ended before anything waited: canceled, and no timer was ever made.
	cc = &callCtx{Context: context.Background(), deadline: time.Now().Add(time.Hour)}
	cc.end()
	require.ErrorIs(t, cc.Err(), context.Canceled)
	<-cc.Done()
}
