package replication

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/wire"
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

// Copies from two actives may arrive at once on two links (the deposed one still sending its end as
// the new one starts its copy). Each piece of a copy is taken on its own goroutine; the start of a
// new copy waits for the install of the old one to end, and so may the end of the old copy: both
// must learn the outcome. One of them used to wait for ever (a member's Close then hung on it).
func TestCopiesFromTwoActivesAtOnceNeverHang(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("a", "program")
	const id = 1<<40 + 7 // a checkpoint the directory does not know: only the copies are tested
	a := *attrs(engine.WriteActiveReplica)
	piece := func(epoch uint64, part uint8, sections []engine.SnapshotSection) {
		msg := &wire.SnapshotMsg{Ckpt: id, Epoch: epoch, Part: part,
			Header: engine.SnapshotHeader{ID: id, Name: "two-copies", Attrs: a, Epoch: epoch, LSN: epoch}, Sections: sections}
		m.snapshotPiece(msg.Encode(nil), func(wire.AckMsg) {})
	}
	for epoch := uint64(1); epoch <= 200; epoch += 2 {
		piece(epoch, wire.SnapHeader, nil)
		piece(epoch, wire.SnapSections, []engine.SnapshotSection{{ID: []byte("s"), Data: []byte("v")}})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); piece(epoch, wire.SnapEnd, nil) }()
		go func() { defer wg.Done(); piece(epoch+1, wire.SnapHeader, nil) }()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("copy of epoch %d: the end of one copy and the start of the next waited for ever", epoch)
		}
		piece(epoch+1, wire.SnapEnd, nil)
	}
}
