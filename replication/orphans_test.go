package replication

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// TestOrphansAreSwept: checkpoints kept for ever (CL_TIME_END) whose delete stopped half way (the
// name removed, the entry not yet marked): one that its deleter had open, closed after; one that
// another member had open, which then dies (its opens count as closed). Nothing else would ever
// destroy them: the sweep does, on the server of the lowest name, and every replica goes. A named
// checkpoint that nobody has open, and an unnamed one that is still open, stay.
func TestOrphansAreSwept(t *testing.T) {
	cl := newCluster(t)
	cl.sweep = 50 * time.Millisecond
	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	other := cl.join("other", directory.KindApplication)
	require.True(t, cl.members["s1"].sweeps())
	require.False(t, cl.members["s2"].sweeps())
	require.False(t, app.sweeps())

	open := func(m *Member, name string) (engine.Checkpoint, *directory.Entry) {
		h, err := m.Open(bg, name, attrs(0), rwc)
		require.NoError(t, err)
		_, err = h.CreateSection(bg, []byte("x"), engine.Never, []byte(name))
		require.NoError(t, err)
		return h, cl.entryOf(m, name)
	}
	hKept, kept := open(app, "kept")
	require.NoError(t, hKept.Close())
	hHeld, held := open(app, "held")
	hA, a := open(app, "a")
	hB, b := open(other, "b")
	for _, e := range []*directory.Entry{held, a, b} { // each delete stops after the name went
		require.NoError(t, app.dir.Unlink(bg, e.Name, e.ID))
	}
	require.NoError(t, hA.Close())
	cl.crash("other")
	_ = hB
	cl.waitDead("other")

	gone := func(id uint64) bool {
		_, err := app.dir.Get(bg, id)
		return err != nil
	}
	require.Eventually(t, func() bool { return gone(a.ID) && gone(b.ID) }, 20*time.Second, 20*time.Millisecond)
	for _, name := range []string{"s1", "s2", "app"} {
		m := cl.members[name]
		require.Eventually(t, func() bool {
			for _, r := range m.reps.All() {
				if r.ID() == a.ID || r.ID() == b.ID {
					return false
				}
			}
			return true
		}, 10*time.Second, 20*time.Millisecond, "%s kept a replica of an orphan", name)
	}
	require.Equal(t, 2.0, metricSum(t, cl.members["s1"], "clckpt_orphans_destroyed_total"))
	time.Sleep(200 * time.Millisecond) // more sweeps
	require.False(t, gone(kept.ID), "a named checkpoint that nobody has open was swept")
	require.False(t, gone(held.ID), "an unnamed checkpoint that is open was swept")
	require.Equal(t, "held", read(t, hHeld, "x"))
	h, err := app.Open(bg, "kept", nil, engine.OpenRead)
	require.NoError(t, err)
	require.Equal(t, "kept", read(t, h, "x"))
}
