package replication

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// entryOf reads the entry of the checkpoint behind h from the directory itself (nil: destroyed).
func entryOf(t *testing.T, m *Member, h engine.Checkpoint) *directory.Entry {
	t.Helper()
	e, err := m.dir.Get(bg, h.(*handle).c.id)
	if err == directory.ErrNotFound {
		return nil
	}
	require.NoError(t, err)
	return e
}

func withRetention(d time.Duration) *engine.Attributes {
	a := attrs(0)
	a.Retention = d
	return a
}

// Closing many handles together (clCkptFinalize, a member leaving) leaves the directory as closing
// them one by one would, by the time the call returns: retention 0 and deleted checkpoints are
// destroyed, a timed retention starts at the close, counts of other openers stay, and an entry that
// changed behind the closing member's back is still closed once.
func TestCloseHandlesTogetherKeepsTheLifecycle(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", "application")
	b := cl.join("b", "application")
	const each = 20
	const timed = 3 * time.Second
	var zero, forever, retained []engine.Checkpoint
	for i := range each {
		h, err := a.Open(bg, fmt.Sprintf("zero-%d", i), withRetention(0), rwc)
		require.NoError(t, err)
		zero = append(zero, h)
		h, err = a.Open(bg, fmt.Sprintf("forever-%d", i), withRetention(engine.RetainForever), rwc)
		require.NoError(t, err)
		forever = append(forever, h)
		h, err = a.Open(bg, fmt.Sprintf("timed-%d", i), withRetention(timed), rwc)
		require.NoError(t, err)
		retained = append(retained, h)
	}
	deleted, err := a.Open(bg, "deleted", withRetention(engine.RetainForever), rwc)
	require.NoError(t, err)
	require.NoError(t, b.Delete(bg, "deleted"))
	// Two handles here and one on b, of a checkpoint that retention 0 would destroy.
	shared1, err := a.Open(bg, "shared", withRetention(0), rwc)
	require.NoError(t, err)
	shared2, err := a.Open(bg, "shared", nil, engine.OpenRead)
	require.NoError(t, err)
	onB, err := b.Open(bg, "shared", nil, engine.OpenRead)
	require.NoError(t, err)
	// One whose entry a knows only at an older revision: b opened it after a's copy was taken.
	stale, err := a.Open(bg, "stale", withRetention(0), rwc)
	require.NoError(t, err)
	sc := stale.(*handle).c
	sc.mu.Lock()
	old := sc.entry
	sc.mu.Unlock()
	staleOnB, err := b.Open(bg, "stale", nil, engine.OpenRead)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return sc.entry.Rev > old.Rev
	}, 10*time.Second, 5*time.Millisecond)
	sc.mu.Lock()
	sc.entry = old
	sc.mu.Unlock()

	all := append(append(append([]engine.Checkpoint{}, zero...), forever...), retained...)
	all = append(all, deleted, shared1, shared2, stale)
	before := time.Now()
	require.NoError(t, a.CloseHandles(all))
	after := time.Now()

	for _, h := range zero {
		require.Nil(t, entryOf(t, b, h), "retention 0: destroyed at the last close")
		_, err := b.Open(bg, h.Name(), nil, engine.OpenRead)
		require.ErrorIs(t, err, engine.ErrNotExist)
	}
	for _, h := range forever {
		e := entryOf(t, b, h)
		require.NotNil(t, e)
		require.Empty(t, e.Openers)
		require.Zero(t, e.Deadline)
	}
	for _, h := range retained {
		e := entryOf(t, b, h)
		require.NotNil(t, e)
		require.Empty(t, e.Openers)
		require.GreaterOrEqual(t, e.Deadline, before.Add(timed).UnixNano(), "retention starts at the close")
		require.LessOrEqual(t, e.Deadline, after.Add(timed).UnixNano(), "retention starts at the close")
	}
	require.Nil(t, entryOf(t, b, deleted), "a deleted checkpoint is destroyed at its last close")
	e := entryOf(t, b, shared1)
	require.NotNil(t, e, "b still has it open")
	require.Equal(t, map[string]int{"b": 1}, e.Openers)
	e = entryOf(t, b, stale)
	require.NotNil(t, e, "b still has it open")
	require.Equal(t, map[string]int{"b": 1}, e.Openers)
	for _, h := range all {
		require.ErrorIs(t, h.Close(), engine.ErrBadHandle, "closed once")
	}

	// The other openers' last closes end them as usual; the timed ones end at their deadline.
	require.NoError(t, onB.Close())
	require.NoError(t, staleOnB.Close())
	require.Nil(t, entryOf(t, b, shared1))
	require.Nil(t, entryOf(t, b, stale))
	for _, h := range retained {
		require.Eventually(t, func() bool { return entryOf(t, b, h) == nil }, 20*time.Second, 20*time.Millisecond)
	}
}

// A member that leaves with many handles open has closed them in the directory when Close returns:
// no open of it is left for a lease's end or the next start to close.
func TestMemberLeavingWithManyOpensClosesThemAll(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", "application")
	b := cl.join("b", "application")
	var hs []engine.Checkpoint
	for i := range 300 {
		ret := engine.RetainForever
		if i%3 == 0 {
			ret = 0
		}
		h, err := a.Open(bg, fmt.Sprintf("c-%d", i), withRetention(ret), rwc)
		require.NoError(t, err)
		hs = append(hs, h)
	}
	require.NoError(t, a.Close())
	delete(cl.members, "a")
	for i, h := range hs {
		e := entryOf(t, b, h)
		if i%3 == 0 {
			require.Nil(t, e, "retention 0: destroyed when the member left")
			continue
		}
		require.NotNil(t, e)
		require.Empty(t, e.Openers, "no open of the member that left")
	}
}
