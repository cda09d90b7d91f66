package oplink

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// queuedBytesPerFrame writes frames of 2 MiB, 16 KiB at a time as TLS does, into an outbox on
// a connection that has no descriptor (everything is queued for the writer goroutine) and whose
// peer reads only once the whole frame is queued (as a peer slower than the sender: the frame
// waits in the queue), and returns the bytes allocated for queuedFrames frames.
func queuedBytes(t *testing.T, keep int) uint64 {
	c, peer := net.Pipe()
	t.Cleanup(func() { _ = c.Close(); _ = peer.Close() })
	const frameSize = 2 << 20
	release, read := make(chan struct{}), make(chan struct{})
	go func() {
		buf := make([]byte, 64<<10)
		for range release {
			for n := 0; n < frameSize; {
				k, err := peer.Read(buf)
				if err != nil {
					return
				}
				n += k
			}
			read <- struct{}{}
		}
	}()
	o := newOutbox(c)
	if keep > 0 {
		o.keepBuffers(keep)
	}
	o.start(func(error) {})
	t.Cleanup(func() { _ = o.Close(); close(release) })
	record := make([]byte, 16<<10)
	frame := func() {
		for range frameSize / len(record) {
			_, err := o.Write(record)
			require.NoError(t, err)
		}
		release <- struct{}{}
		<-read
		drained := func() bool {
			o.mu.Lock()
			defer o.mu.Unlock()
			return len(o.queue) == 0 && o.inHand == 0
		}
		for deadline := time.Now().Add(30 * time.Second); !drained(); time.Sleep(time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "the outbox did not drain")
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range queuedFrames {
		frame()
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// queuedFrames is how many frames queuedBytes writes.
const queuedFrames = 64

// TestACopyLinkKeepsItsQueueBuffers: an outbox told to keep its buffers (a replica copy's link)
// queues frame after frame of 2 MiB without allocating again; by default a buffer over 1 MiB goes
// back to the heap and each frame grows a new one from nothing, which is what every message of a
// copy cost before (its growth was about 30% of a copy's sending side in its profile).
func TestACopyLinkKeepsItsQueueBuffers(t *testing.T) {
	byDefault := queuedBytes(t, 0)
	kept := queuedBytes(t, QueueLimit)
	t.Logf("allocated for %d frames of 2 MiB: %.1f MiB by default, %.1f MiB keeping the buffers",
		queuedFrames, float64(byDefault)/(1<<20), float64(kept)/(1<<20))
	// Kept, the two buffers the queue alternates between grow to the largest burst and no more (a
	// few times 2 MiB in all, whatever the number of frames); by default, every frame allocates.
	require.Greater(t, byDefault, uint64(queuedFrames*(2<<20)), "by default (the test's premise)")
	require.Less(t, kept, uint64(40<<20), "keeping the buffers")
}
