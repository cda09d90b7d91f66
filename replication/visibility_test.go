package replication

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
)

// An open that runs out of time while it creates the checkpoint leaves nothing behind that shows
// up later: once it has returned, deleting the name makes it gone for good, and no open is left
// counted on the checkpoint (which would keep it from ever being destroyed).
func TestATimedOutCreateDoesNotLandLater(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("a", "program")
	a := attrs(0)
	a.Retention = 0
	for i := range 400 {
		name := fmt.Sprintf("late-%d", i)
		ctx, cancel := context.WithTimeout(bg, time.Duration(i%40)*50*time.Microsecond+time.Microsecond)
		h, err := m.Open(ctx, name, a, rwc)
		cancel()
		if err == nil {
			require.NoError(t, h.Close())
		} else {
			require.True(t, errors.Is(err, engine.ErrTimeout) || errors.Is(err, engine.ErrTryAgain), "%v", err)
		}
		if err := m.Delete(bg, name); err != nil {
			require.ErrorIs(t, err, engine.ErrNotExist)
		}
		_, err = m.Open(bg, name, nil, engine.OpenRead)
		require.ErrorIs(t, err, engine.ErrNotExist, "open %d of %q after its delete", i, name)
	}
	// Nothing is left open: every checkpoint was deleted with retention 0, so each is destroyed.
	require.Eventually(t, func() bool {
		es, err := m.dir.List(bg)
		require.NoError(t, err)
		return len(es) == 0
	}, 10*time.Second, 20*time.Millisecond, "checkpoints left in the directory")
}

// Synchronize waits for every replica the directory names when it is called, including one that a
// member has just added by opening a checkpoint whose openers hold replicas, before the active
// member has seen that change go by. And the new replica keeps the copy it was sent when its own
// watch brings it, after the copy, the older entry that did not name it yet.
func TestSynchronizeWaitsForAReplicaJustAdded(t *testing.T) {
	cl := newCluster(t)
	// A replica that does not answer within the ack timeout is not waited for (it counts as down):
	// a long one, so that a loaded host does not make the new replica look down.
	cl.tune = func(c *config.Config) { c.AckTimeout = 10 * time.Second }
	a := cl.join("a", "program")
	b := cl.join("b", "program")
	for i := range 40 {
		name := fmt.Sprintf("sync-%d", i)
		ha, err := a.Open(bg, name, attrs(engine.AllOpenAreReplicas), rwc)
		require.NoError(t, err)
		_, err = ha.CreateSection(bg, []byte("s"), engine.Never, []byte("v"))
		require.NoError(t, err)
		hb, err := b.Open(bg, name, nil, engine.OpenRead)
		require.NoError(t, err)
		require.NoError(t, ha.Synchronize(bg))
		require.Contains(t, replicaContent(t, b, name), fmt.Sprintf("s=%x;", "v"), "checkpoint %d: b's replica after Synchronize", i)
		require.NoError(t, hb.Close())
		require.NoError(t, ha.Close())
	}
}
