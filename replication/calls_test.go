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
